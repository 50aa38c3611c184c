/**
 * The contract's reference seed (section 0), with fixed ids and timestamps so that tests are
 * repeatable. Every value is a test fixture. Import these instead of repeating the strings.
 */

/** bcrypt `$2y$10$…` hashes of the seed passwords, computed once (never hashed at startup). */
export const SEED_PASSWORD_HASHES = {
  'admin-pass-123': '$2y$10$HrPK3GTj69AoI29e/r3LaeKsVQU4W8xguaNjceTIR4g1wlUpQ4Mcu',
  'editor-pass-123': '$2y$10$l2EIHUGMz9Y1QVzsQ8U/EOUIox12akvGLAgSQPHDUuVSxpMU9/GAG',
  'guest-pass-123': '$2y$10$B7IWYKb8XWXl14h0RuWkWecANAtc728D3yeh11AFhXcFS.U2UxTK.',
} as const

/** Cockpit v2 (2.13) seed: keys, users, roles and the `posts` items. */
export const SEED_V2 = {
  keys: {
    /** API key with role `admin` (super-admin). */
    full: 'API-6ffcc605ece5abf9f40f3a8f48ffec592e975630',
    /** API key with role `reader` (`content/posts/read` only). */
    readOnly: 'API-4ca657e22b1b6de9ec5768825275b5fd5567940b',
    /** The `apiKey` of user `editor`: acts as that user. */
    editorUser: 'USR-da7031273a73ae299876608f160b18e120677850',
    /** API key `acceptance-messages-submit`, role `submitter` (`content/messages/create` only). */
    submit: 'API-9fe1a41cee0b2b8a97c86a43975c375d478d3166',
  },
  users: {
    admin: { id: '6b0bc3c7686c82ffb095aa7f', user: 'admin', password: 'admin-pass-123', email: 'admin@example.test', name: 'Admin', role: 'admin' },
    editor: { id: '6b0bc3c7686c82ffb095aa80', user: 'editor', password: 'editor-pass-123', email: 'editor@example.test', name: 'Editor User', role: 'editor' },
    guest: { id: '6b0bc3c7686c82ffb095aa81', user: 'guest', password: 'guest-pass-123', email: 'guest@example.test', name: 'Guest User', role: 'guest' },
  },
  roles: {
    editor: ['content/posts/read', 'content/posts/create', 'content/posts/update', 'content/posts/publish', 'content/posts/delete'],
    guest: ['content/posts/read'],
    reader: ['content/posts/read', 'content/settings/read'],
    submitter: ['content/messages/create'],
  },
  model: 'posts',
  /** The singleton model `settings` (contract 4.1), stored in `content/singletons`. */
  singleton: {
    model: 'settings',
    id: '6b112091686c8241b175b635',
    siteTitle: 'Acceptance Site',
    tagline: 'Real Cockpit, seeded for acceptance tests',
    created: 1796284561,
    modified: 1796285101,
  },
  /** The collection model of contact messages (contract 5.1); the seed holds none. */
  messagesModel: 'messages',
  posts: {
    hello: { id: '6b0bc3c7686c82ffb095aa85', title: 'Hello Cockpit', body: '<p>Hello from the seed.</p>', published: true, state: 1, created: 1795933067 },
    second: { id: '6b0bc3c7686c82ffb095aa86', title: 'Second post', body: '<p>Second post body</p>', published: true, state: 1, created: 1795933127 },
    third: { id: '6b0bc3c7686c82ffb095aa87', title: 'Third post', body: '<p>Third post body</p>', published: false, state: 1, created: 1795933187 },
    /** `_state: 0`: the API never returns it. */
    draft: { id: '6b0bc3c7686c82ffb095aa88', title: 'Draft post (unpublished _state=0)', body: '<p>Draft body</p>', published: false, state: 0, created: 1795933247 },
  },
  /** `_created`/`_modified` of users, keys and roles. */
  systemCreated: 1795932967,
} as const

/** Cockpit v1 (0.12) seed: keys, accounts and the `posts` entries. */
export const SEED_V1 = {
  keys: {
    /** Master key: full access, no user, no ACL. */
    master: 'c9a28a6ff3e17bba7521559b8da81e',
    /** Special key limited by {@link SEED_V1.specialKeyRules}. */
    special: 'f2a59d21d99f0f96a24c4096fa89d3',
    /** `api_key` of account `editor`. */
    editorAccount: 'account-74c726f8de971e05e5523934918f7058',
    /** `api_key` of account `admin` (not in the contract; the emulator's own fixture). */
    adminAccount: 'account-3f1c9b7e2a6d4f8e0b5c7a9d1e3f5a7c',
    /** `api_key` of account `guest` (not in the contract; the emulator's own fixture). */
    guestAccount: 'account-8e2d4c6b0a1f3e5d7c9b2a4f6e8d0c1b',
  },
  specialKeyRules: ['^/api/collections/(get|entries|entry)/posts', '^/api/singletons/get/settings'],
  users: {
    admin: { id: '7b9faa26323163ed8700002a', user: 'admin', password: 'admin-pass-123', email: 'admin@example.test', name: 'Admin', group: 'admin' },
    editor: { id: '7b9faa26323163ed8700002c', user: 'editor', password: 'editor-pass-123', email: 'editor@example.test', name: 'Editor User', group: 'editor' },
    guest: { id: '7b9faa26323163ed8700002e', user: 'guest', password: 'guest-pass-123', email: 'guest@example.test', name: 'Guest User', group: 'guest' },
  },
  collection: 'posts',
  collectionId: '7b9fab0f6634384c50000100',
  posts: {
    hello: { id: '7ba658276634384c50000302', title: 'Hello Cockpit', body: '<p>Hello from the seed.</p>', published: true, created: 1795933216 },
    second: { id: '7ba658276634384c50000304', title: 'Second post', body: '<p>Second post body</p>', published: true, created: 1795933276 },
    third: { id: '7ba658276634384c50000306', title: 'Third post', body: '<p>Third post body</p>', published: false, created: 1795933336 },
  },
  systemCreated: 1795933116,
  /** The singleton `settings` (contract 4.2): its value in the key-value store `singletons`. */
  singleton: {
    name: 'settings',
    siteTitle: 'Acceptance Site',
    tagline: 'Real Cockpit, seeded for acceptance tests',
    created: 1796284562,
  },
  /** The form `contact` (contract 5.2); the seed holds no entries. */
  form: 'contact',
} as const

/**
 * The two seed files of contract 6.1, the same bytes on both versions. Their `_id`s and storage
 * paths are generated per emulator (as Cockpit does on upload): find them with `listAssets()`.
 */
export const SEED_FILES = {
  image: {
    name: 'acceptance-image.png',
    title: 'Acceptance image',
    mime: 'image/png',
    size: 174,
    md5: '6d10e7a6a540af4b415a3255c58543c2',
    width: 64,
    height: 32,
    colors: ['#1c4cdc', '#d42c2c', '#483ce0', '#483ce0', '#483ce0'],
    thumbhash: '159-228-9-68-138-143-17-132-136-136-136-49-184-135-134-136-32-136-8',
    base64: 'iVBORw0KGgoAAAANSUhEUgAAAEAAAAAgCAIAAAAt/+nTAAAACXBIWXMAAA7EAAAOxAGVKw4bAAAAYElEQVRYw+3YsQmAQAwF0DtxDS11FDt1VC3dRC2dxAksAoIcvt/mE3iQKrkZ91RyqlR4AAAAAL5N/TS41j60qJ2OUH8751B/6BYnBAAAAAAAAAAAAPBusr8QAAAAwK8BN6pLCMcJgPubAAAAAElFTkSuQmCC',
  },
  notes: {
    name: 'acceptance-notes.txt',
    title: 'Acceptance notes',
    mime: 'text/plain',
    size: 48,
    md5: '1c4d5bc12999c161a32ad182bba70498',
    width: null,
    height: null,
    colors: null,
    thumbhash: null,
    base64: Buffer.from('Cockpit acceptance harness: a plain-text asset.\n').toString('base64'),
  },
} as const

/** Both seeds, by version. */
export const SEED = { v1: SEED_V1, v2: SEED_V2 } as const
