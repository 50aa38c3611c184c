import { refuseCockpitUpload } from '../../assets/images'

// Uploads are out of scope on purpose (see refuseCockpitUpload): a clear 501, the body never read.
export default defineEventHandler(() => refuseCockpitUpload())
