import { describe, expect, it } from 'vitest'
import { DEFAULT_ALLOWED_TYPES, parseTypeRules } from './type-rules.ts'
import { sizeRefusal, typeRefusal } from './upload-rules.ts'

const DEFAULTS = parseTypeRules(DEFAULT_ALLOWED_TYPES)
const LIST = '(allowed: csv, tsv, xlsx, xls, json, md, txt, pdf, png, jpg, jpeg, webp, gif)'
const GiB = 1024 ** 3

describe('typeRefusal with the rules parsed from ALLOWED_TYPES', () => {
  it('lets the extension decide, whatever type is declared', () => {
    expect(typeRefusal(DEFAULTS, 'report.csv', 'application/zip')).toBeUndefined()
    expect(typeRefusal(DEFAULTS, 'setup.exe', 'text/csv')).toBe(`files of type .exe are not accepted here ${LIST}`)
  })

  it('reads an uppercase extension as lowercase', () => {
    expect(typeRefusal(DEFAULTS, 'REPORT.CSV', undefined)).toBeUndefined()
    expect(typeRefusal(DEFAULTS, 'C:\\Users\\me\\SETUP.EXE', undefined)).toBe(`files of type .exe are not accepted here ${LIST}`)
  })

  it('judges a name without extension by its declared type, parameters and case aside', () => {
    expect(typeRefusal(DEFAULTS, 'export', 'text/csv; charset=utf-8')).toBeUndefined()
    expect(typeRefusal(DEFAULTS, 'notes', 'Text/Markdown')).toBeUndefined()
    // What Windows browsers declare for a .csv, added by parseTypeRules with csv.
    expect(typeRefusal(DEFAULTS, 'export', 'application/vnd.ms-excel')).toBeUndefined()
  })

  it('refuses a name without extension whose declared type is not allowed, naming the type', () => {
    expect(typeRefusal(DEFAULTS, 'blob', 'application/zip')).toBe(`the file has no extension and its declared type application/zip is not accepted ${LIST}`)
  })

  it('refuses a name without extension that declares nothing, or only application/octet-stream', () => {
    const none = `the file has no extension and no declared type ${LIST}`
    expect(typeRefusal(DEFAULTS, 'blob', undefined)).toBe(none)
    expect(typeRefusal(DEFAULTS, 'blob', '   ')).toBe(none)
    // A dotfile's name is all name: .csv has no extension.
    expect(typeRefusal(DEFAULTS, '.csv', undefined)).toBe(none)
    expect(typeRefusal(DEFAULTS, 'blob', 'application/octet-stream')).toBe(`the file has no extension and its declared type application/octet-stream is not accepted ${LIST}`)
  })

  it('accepts any image type under image/* for a name without extension, and nothing else', () => {
    const rules = parseTypeRules('csv, image/*')
    expect(typeRefusal(rules, 'photo', 'image/heic')).toBeUndefined()
    expect(typeRefusal(rules, 'photo', 'IMAGE/PNG')).toBeUndefined()
    expect(typeRefusal(rules, 'clip', 'video/mp4')).toBe('the file has no extension and its declared type video/mp4 is not accepted (allowed: csv, image/*)')
    expect(typeRefusal(rules, 'a.csv', undefined)).toBeUndefined()
  })

  // The extension decides, so a MIME entry brings its extensions with it.
  it('accepts photo.png under ALLOWED_TYPES=image/*, as the README promises', () => {
    expect(typeRefusal(parseTypeRules('image/*'), 'photo.png', 'image/png')).toBeUndefined()
    expect(typeRefusal(parseTypeRules('text/csv'), 'a.csv', undefined)).toBeUndefined()
    expect(typeRefusal(parseTypeRules('image/*'), 'clip.mp4', undefined)).toMatch(/^files of type \.mp4 are not accepted/)
  })

  it('accepts everything under *', () => {
    const any = parseTypeRules('csv, *')
    expect(any).toEqual({ any: true })
    expect(typeRefusal(any, 'setup.exe', 'application/x-msdownload')).toBeUndefined()
    expect(typeRefusal(any, 'blob', undefined)).toBeUndefined()
  })

  it('lists the allowed types as written, trimmed and lowercased, leading dots kept out of the extensions', () => {
    const rules = parseTypeRules(' .CSV , Image/* ,, txt ')
    expect(rules).toMatchObject({ any: false, label: '.csv, image/*, txt' })
    expect(rules.any === false && rules.extensions).toEqual(expect.arrayContaining(['csv', 'txt', 'png', 'jpeg']))
    expect(rules.any === false && rules.extensions).not.toContain('.csv')
    expect(typeRefusal(rules, 'a.json', undefined)).toBe('files of type .json are not accepted here (allowed: .csv, image/*, txt)')
  })
})

describe('sizeRefusal', () => {
  it('lets a file of exactly the limit through and refuses one byte more', () => {
    expect(sizeRefusal(10 * GiB, 10 * GiB)).toBeUndefined()
    // Both round to "10 GiB": the exact bytes tell them apart.
    expect(sizeRefusal(10 * GiB, 10 * GiB + 1)).toBe('the file is 10,737,418,241 bytes, larger than the 10,737,418,240 bytes this server accepts')
    expect(sizeRefusal(1000, 0)).toBeUndefined()
  })

  it('names both sizes in binary units people read', () => {
    expect(sizeRefusal(10 * GiB, 15 * GiB)).toBe('the file is 15 GiB, larger than the 10 GiB this server accepts')
    expect(sizeRefusal(100 * 1024 * 1024, 2.5 * GiB)).toBe('the file is 2.5 GiB, larger than the 100 MiB this server accepts')
    expect(sizeRefusal(1000, 1001)).toBe('the file is 1,001 bytes, larger than the 1,000 bytes this server accepts')
    expect(sizeRefusal(1, 2)).toBe('the file is 2 bytes, larger than the 1 byte this server accepts')
  })
})
