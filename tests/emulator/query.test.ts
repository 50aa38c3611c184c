import { describe, expect, it } from 'vitest'
import { encodePhpJson, parseJson5 } from '../../emulator/json'
import { V1_COLLECTIONS } from '../../emulator/models'
import { isPhpTruthy, parseBodyParams, parsePhpQuery, phpIntval } from '../../emulator/params'
import type { Doc } from '../../emulator/query'
import { QueryError, filterDocuments, matchesFilter, projectDocument, runPipeline, runQuery, sortDocuments } from '../../emulator/query'
import { castV1Entry, findMissingRequiredField } from '../../emulator/v1-entry'
import { fixStringValues } from '../../emulator/v1-params'

const DOCS: Doc[] = [
  { _id: 'a', title: 'Alpha', n: 3, published: true, tags: ['x', 'y'], meta: { lang: 'en' }, body: null },
  { _id: 'b', title: 'beta', n: 1, published: false, tags: ['y'], meta: { lang: 'de' } },
  { _id: 'c', title: 'Gamma', n: 2, published: true, tags: [], body: '<p>g</p>' },
]
const ids = (docs: Doc[]) => docs.map(doc => doc._id)
const where = (filter: Record<string, unknown>) => ids(filterDocuments(DOCS, filter))

describe('filter operators', () => {
  it('implicit equality, also inside arrays and nested paths', () => {
    expect(where({ published: true })).toEqual(['a', 'c'])
    expect(where({ tags: 'y' })).toEqual(['a', 'b'])
    expect(where({ 'meta.lang': 'de' })).toEqual(['b'])
    expect(where({ meta: { lang: 'en' } })).toEqual(['a'])
  })

  it('a missing field equals null', () => {
    expect(where({ body: null })).toEqual(['a', 'b'])
  })

  it('$eq and $ne', () => {
    expect(where({ n: { $eq: 2 } })).toEqual(['c'])
    expect(where({ n: { $ne: 2 } })).toEqual(['a', 'b'])
  })

  it('$in and $nin', () => {
    expect(where({ n: { $in: [1, 3] } })).toEqual(['a', 'b'])
    expect(where({ n: { $nin: [1, 3] } })).toEqual(['c'])
    expect(where({ tags: { $in: ['x'] } })).toEqual(['a'])
  })

  it('$gt $gte $lt $lte on numbers and strings; mixed types never match', () => {
    expect(where({ n: { $gt: 2 } })).toEqual(['a'])
    expect(where({ n: { $gte: 2 } })).toEqual(['a', 'c'])
    expect(where({ n: { $lt: 2 } })).toEqual(['b'])
    expect(where({ n: { $lte: 2 } })).toEqual(['b', 'c'])
    expect(where({ n: { $gt: 1, $lt: 3 } })).toEqual(['c'])
    expect(where({ title: { $gt: 'Beta' } })).toEqual(['b', 'c'])
    expect(where({ n: { $gt: '1' } })).toEqual(['a', 'c'])
    expect(where({ title: { $gt: 1 } })).toEqual([])
  })

  it('$exists (MongoLite: a null value does not exist)', () => {
    expect(where({ body: { $exists: true } })).toEqual(['c'])
    expect(where({ body: { $exists: false } })).toEqual(['a', 'b'])
    expect(where({ meta: { $exists: true } })).toEqual(['a', 'b'])
  })

  it('$regex: case-insensitive unless written as /pattern/flags', () => {
    expect(where({ title: { $regex: 'A$' } })).toEqual(['a', 'b', 'c'])
    expect(where({ title: { $regex: '/^[a-z]/' } })).toEqual(['b'])
    expect(where({ title: { $regex: '/^ALPHA/i' } })).toEqual(['a'])
    expect(where({ title: { $preg: '^g' } })).toEqual(['c'])
  })

  it('$not with a pattern or a condition', () => {
    expect(where({ title: { $not: '^a' } })).toEqual(['b', 'c'])
    expect(where({ n: { $not: { $gt: 1 } } })).toEqual(['b'])
  })

  it('$size, $all, $has, $mod', () => {
    expect(where({ tags: { $size: 0 } })).toEqual(['c'])
    expect(where({ tags: { $all: ['x', 'y'] } })).toEqual(['a'])
    expect(where({ tags: { $has: 'y' } })).toEqual(['a', 'b'])
    expect(where({ n: { $mod: [2, 1] } })).toEqual(['a', 'b'])
  })

  it('$or and $and, nested', () => {
    expect(where({ $or: [{ n: 1 }, { title: 'Gamma' }] })).toEqual(['b', 'c'])
    expect(where({ $and: [{ published: true }, { n: { $gt: 2 } }] })).toEqual(['a'])
    expect(where({ published: true, $or: [{ n: 1 }, { $and: [{ n: 2 }, { tags: { $size: 0 } }] }] })).toEqual(['c'])
  })

  it('an empty filter matches everything', () => {
    expect(where({})).toEqual(['a', 'b', 'c'])
    expect(matchesFilter({}, {})).toBe(true)
  })

  it.each([
    [{ title: { $bogus: 1 } }],
    [{ $where: 'x' }],
    [{ $or: { n: 1 } }],
    [{ n: { $in: 1 } }],
    [{ title: { $regex: '(' } }],
    [{ title: { $regex: 'x', $options: 'i' } }],
    [{ title: { $eq: 1, plain: 2 } }],
  ])('rejects %j with a QueryError (→ 500), even on an empty collection', (filter) => {
    expect(() => filterDocuments(DOCS, filter)).toThrow(QueryError)
    expect(() => filterDocuments([], filter)).toThrow(QueryError)
  })
})

describe('sort', () => {
  it('ascending and descending, several keys, stable', () => {
    expect(ids(sortDocuments(DOCS, { n: 1 }))).toEqual(['b', 'c', 'a'])
    expect(ids(sortDocuments(DOCS, { n: -1 }))).toEqual(['a', 'c', 'b'])
    expect(ids(sortDocuments(DOCS, { published: -1, n: 1 }))).toEqual(['c', 'a', 'b'])
    expect(ids(sortDocuments(DOCS, { nothing: 1 }))).toEqual(['a', 'b', 'c'])
  })

  it('orders like SQLite: null first, then numbers, then strings in binary order (upper case first)', () => {
    expect(ids(sortDocuments(DOCS, { title: 1 }))).toEqual(['a', 'c', 'b'])
    expect(ids(sortDocuments(DOCS, { body: 1 }))).toEqual(['a', 'b', 'c'])
    const mixed = [{ _id: 's', v: 'x' }, { _id: 'n', v: 5 }, { _id: 'z', v: null }]
    expect(ids(sortDocuments(mixed, { v: 1 }))).toEqual(['z', 'n', 's'])
  })

  it('does not change its input', () => {
    const copy = [...DOCS]
    sortDocuments(DOCS, { n: 1 })
    expect(DOCS).toEqual(copy)
  })
})

describe('projection', () => {
  const doc = { title: 'T', body: 'B', _state: 1, _id: 'i' }

  it('inclusion puts _id first and always includes it', () => {
    expect(projectDocument(doc, { title: 1 })).toEqual({ _id: 'i', title: 'T' })
    expect(Object.keys(projectDocument(doc, { title: 1 }))).toEqual(['_id', 'title'])
  })

  it('_id:0 leaves it out', () => {
    expect(projectDocument(doc, { title: 1, _id: 0 })).toEqual({ title: 'T' })
    expect(projectDocument(doc, { _id: 0 })).toEqual({ title: 'T', body: 'B', _state: 1 })
  })

  it('exclusion removes the fields', () => {
    expect(projectDocument(doc, { body: 0 })).toEqual({ title: 'T', _state: 1, _id: 'i' })
    expect(projectDocument(doc, { body: false, _state: 0 })).toEqual({ title: 'T', _id: 'i' })
  })

  it('{_id:1} alone keeps only _id; true counts as 1', () => {
    expect(projectDocument(doc, { _id: 1 })).toEqual({ _id: 'i' })
    expect(projectDocument(doc, { body: true })).toEqual({ _id: 'i', body: 'B' })
  })
})

describe('runQuery', () => {
  it('filter, sort, limit, then projection', () => {
    expect(runQuery(DOCS, { filter: { published: true }, sort: { n: -1 }, limit: 1, fields: { title: 1 } })).toEqual([{ _id: 'a', title: 'Alpha' }])
  })

  it('skip only applies with a positive limit', () => {
    expect(ids(runQuery(DOCS, { skip: 1 }))).toEqual(['a', 'b', 'c'])
    expect(ids(runQuery(DOCS, { skip: 1, limit: 0 }))).toEqual(['a', 'b', 'c'])
    expect(ids(runQuery(DOCS, { skip: 1, limit: 5 }))).toEqual(['b', 'c'])
    expect(ids(runQuery(DOCS, { limit: -1 }))).toEqual(['a', 'b', 'c'])
  })
})

describe('runPipeline', () => {
  it('$match, $sort, $skip, $limit, $project, $count', () => {
    expect(runPipeline(DOCS, [{ $match: { published: true } }, { $sort: { n: 1 } }, { $project: { title: 1, _id: 0 } }])).toEqual([{ title: 'Gamma' }, { title: 'Alpha' }])
    expect(ids(runPipeline(DOCS, [{ $skip: 1 }, { $limit: 1 }]))).toEqual(['b'])
    expect(runPipeline(DOCS, [{ $count: 'total' }])).toEqual([{ total: 3 }])
  })

  it('rejects unsupported stages', () => {
    expect(() => runPipeline(DOCS, [{ $lookup: {} }])).toThrow(QueryError)
    expect(() => runPipeline(DOCS, [{ $match: {}, $sort: {} }])).toThrow(QueryError)
  })
})

describe('JSON and JSON5 parameters', () => {
  it('parses JSON and JSON5', () => {
    expect(parseJson5('{"published":true}')).toEqual({ ok: true, value: { published: true } })
    expect(parseJson5('{published:true, title:\'x\',}')).toEqual({ ok: true, value: { published: true, title: 'x' } })
    expect(parseJson5('{title:{$in:["a","b"]}}')).toEqual({ ok: true, value: { title: { $in: ['a', 'b'] } } })
  })

  it('reports invalid input without throwing', () => {
    expect(parseJson5('{not json')).toEqual({ ok: false })
    expect(parseJson5('')).toEqual({ ok: false })
  })

  it('encodes like PHP json_encode: "/" escaped', () => {
    expect(encodePhpJson({ body: '<p>x</p>' })).toBe('{"body":"<p>x<\\/p>"}')
    expect(JSON.parse(encodePhpJson({ body: '<p>x</p>' }))).toEqual({ body: '<p>x</p>' })
  })
})

describe('PHP request parameters', () => {
  it('parses bracket syntax', () => {
    expect(parsePhpQuery('?filter[published]=true&fields[title]=1&limit=2')).toEqual({ filter: { published: 'true' }, fields: { title: '1' }, limit: '2' })
    expect(parsePhpQuery('filter[title][$in][]=a&filter[title][$in][]=b')).toEqual({ filter: { title: { $in: ['a', 'b'] } } })
    expect(parsePhpQuery('data[title]=Hello+world&data[tags][]=x')).toEqual({ data: { title: 'Hello world', tags: ['x'] } })
  })

  it('drops prototype keys', () => {
    const parsed = parsePhpQuery('__proto__[polluted]=1&a[constructor][x]=1&ok=1')
    expect(parsed).toEqual({ ok: '1' })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('reads JSON and form bodies; other types carry no params', () => {
    expect(parseBodyParams('{"data":{"a":1}}', 'application/json; charset=utf-8')).toEqual({ params: { data: { a: 1 } }, malformed: false })
    expect(parseBodyParams('{"data":', 'application/json')).toEqual({ params: {}, malformed: true })
    expect(parseBodyParams('[1]', 'application/json')).toEqual({ params: {}, malformed: true })
    expect(parseBodyParams('data[a]=1', 'application/x-www-form-urlencoded')).toEqual({ params: { data: { a: '1' } }, malformed: false })
    expect(parseBodyParams('{"data":{}}', 'text/plain')).toEqual({ params: {}, malformed: false })
  })

  it('intval and truthiness like PHP', () => {
    expect([phpIntval('abc'), phpIntval('2abc'), phpIntval('-1'), phpIntval(3.9), phpIntval(undefined)]).toEqual([0, 2, -1, 3, 0])
    expect(['', '0', 0, false, null, undefined, [], {}].map(isPhpTruthy)).toEqual(Array(8).fill(false))
    expect(['1', 'false', 'abc', 1, true, [0], { a: 1 }].map(isPhpTruthy)).toEqual(Array(7).fill(true))
  })

  it('v1 query values: "true"/"false"/numbers are cast back', () => {
    expect(fixStringValues({ published: 'true', n: '2', t: 'x', list: ['false', '1.5'] })).toEqual({ published: true, n: 2, t: 'x', list: [false, 1.5] })
  })
})

describe('v1 save casting', () => {
  const posts = V1_COLLECTIONS.posts!

  it('casts by field type and keeps unknown keys', () => {
    expect(castV1Entry(posts, { title: '', body: 5, published: 'true', extra: 'kept?' })).toEqual({ title: null, body: '5', published: true, extra: 'kept?' })
    expect(castV1Entry(posts, { published: 'false' }).published).toBe(false)
    expect(castV1Entry(posts, { published: '0' }).published).toBe(false)
    expect(castV1Entry(posts, { published: 1 }).published).toBe(true)
  })

  it('finds the missing required field', () => {
    expect(findMissingRequiredField(posts, { body: 'x' })).toBe('title')
    expect(findMissingRequiredField(posts, { title: null })).toBe('title')
    expect(findMissingRequiredField(posts, { title: 'ok' })).toBeUndefined()
  })
})
