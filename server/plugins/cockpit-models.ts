import { posts } from '#shared/posts'
import { settings } from '#shared/settings'

export default defineNitroPlugin(() => {
  registerCockpitModels(posts)
  registerCockpitSingletons(settings)
})
