// Reads a Parquet file with hyparquet, a reader independent of DuckDB, and prints its schema
// and rows as JSON on one line:
//   {"columns":[{"name","type","logical","codec"}...],"rows":[[...],...]}
// Exact on purpose: 64-bit integers print as bare JSON integers (never rounded through a
// double), TIMESTAMP(µs) as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), strings are decoded as strict
// UTF-8 (a file with invalid UTF-8 fails), NULL is null.
// Usage: node tests/node/hyparquet_check.mjs FILE.parquet
// Exit codes: 0 ok, 1 the file could not be read, 2 usage, 3 a dependency is missing.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let hyparquet
try {
  hyparquet = await import('hyparquet')
} catch (e) {
  console.error(`hyparquet is not installed (run npm install): ${e.message}`)
  process.exit(3)
}
const { parquetMetadata, parquetReadObjects } = hyparquet

const file = process.argv[2]
if (!file || process.argv.length !== 3) {
  console.error('usage: node hyparquet_check.mjs FILE.parquet')
  process.exit(2)
}

// hyparquet decodes only Snappy itself; the lake uses zstd, which the zstd tool decodes.
function zstd(input, outputLength) {
  let out
  try {
    out = execFileSync('zstd', ['-d', '-c', '-q'], { input: Buffer.from(input.buffer, input.byteOffset, input.byteLength) })
  } catch (e) {
    if (e.code === 'ENOENT') {
      console.error('the zstd program is not installed')
      process.exit(3)
    }
    throw e
  }
  if (out.length !== outputLength) throw new Error(`zstd gave ${out.length} bytes, the page header says ${outputLength}`)
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

function pad(n, width) {
  return String(n).padStart(width, '0')
}

class Timestamp {
  constructor(micros) {
    this.micros = micros
  }
  toString() {
    let secs = this.micros / 1000000n
    let frac = this.micros % 1000000n
    if (frac < 0n) {
      secs -= 1n
      frac += 1000000n
    }
    const d = new Date(Number(secs) * 1000)
    return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
      `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(frac, 6)}`
  }
}

const strict = new TextDecoder('utf-8', { fatal: true })
const parsers = {
  timestampFromMilliseconds: (ms) => new Timestamp(BigInt(ms) * 1000n),
  timestampFromMicroseconds: (us) => new Timestamp(BigInt(us)),
  timestampFromNanoseconds: (ns) => new Timestamp(BigInt(ns) / 1000n),
  dateFromDays: (days) => new Timestamp(BigInt(days) * 86400000000n).toString().slice(0, 10),
  stringFromBytes: (bytes) => bytes && strict.decode(bytes),
}

function toJson(v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v))
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'string') return JSON.stringify(v)
  if (v instanceof Timestamp) return JSON.stringify(v.toString())
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`
  throw new Error(`unexpected value of type ${typeof v}: ${v}`)
}

try {
  const bytes = readFileSync(file)
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const metadata = parquetMetadata(arrayBuffer, { parsers })
  const leaves = metadata.schema.slice(1)
  const codecs = metadata.row_groups.length ? metadata.row_groups[0].columns.map((c) => c.meta_data.codec) : []
  const columns = leaves.map((e, i) => ({
    name: e.name,
    type: e.type,
    converted: e.converted_type ?? null,
    logical: e.logical_type ? e.logical_type.type + (e.logical_type.unit ? `(${e.logical_type.unit})` : '') : null,
    codec: codecs[i] ?? null,
  }))
  const objects = await parquetReadObjects({ file: arrayBuffer, metadata, parsers, compressors: { ZSTD: zstd } })
  const rows = objects.map((o) => columns.map((c) => o[c.name]))
  const columnsJson = columns.map((c) =>
    `{"name":${JSON.stringify(c.name)},"type":${JSON.stringify(c.type)},"converted":${toJson(c.converted)},"logical":${toJson(c.logical)},"codec":${toJson(c.codec)}}`)
  process.stdout.write(`{"columns":[${columnsJson.join(',')}],"rows":[${rows.map(toJson).join(',')}]}\n`)
} catch (e) {
  console.error(`cannot read ${file}: ${e.stack || e}`)
  process.exit(1)
}
