import { posts } from '#shared/posts'

export default defineNitroPlugin(() => registerCockpitModels(posts))
