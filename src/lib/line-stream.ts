/**
 * Line-by-line reading of a request body as it streams in, so an upload of any size costs the
 * memory of one line. CSV records are parsed on top (RFC 4180: quoted fields, `""` escapes, line
 * breaks inside quotes); each record keeps the number of the line it starts on, for error reports.
 */

export interface Line {
  /** 1-based physical line number. */
  number: number;
  text: string;
  /** The line was longer than the limit; `text` is empty. */
  tooLong: boolean;
}

/** The upload went over its byte limit; `nextLine` (1-based) is the first line not read in full. */
export class UploadTooLargeError extends Error {
  constructor(
    public nextLine: number,
    readonly maxBytes: number,
  ) {
    super(`the upload is larger than ${maxBytes} bytes`);
  }
}

/** Lines of `body`; past `maxBytes` bytes it stops reading and throws UploadTooLargeError. */
export async function* readLines(
  body: ReadableStream<Uint8Array>,
  maxChars: number,
  maxBytes = Number.POSITIVE_INFINITY,
): AsyncGenerator<Line> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let number = 0;
  let skipping = false;
  let bytes = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        buffer += decoder.decode();
        break;
      }
      bytes += value.byteLength;
      if (bytes > maxBytes) throw new UploadTooLargeError(number + 1, maxBytes);
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const raw = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        number++;
        yield skipping ? { number, text: "", tooLong: true } : line(number, raw, maxChars);
        skipping = false;
        newline = buffer.indexOf("\n");
      }
      // A line without an end in sight is dropped as it arrives rather than held in memory.
      if (buffer.length > maxChars) {
        skipping = true;
        buffer = "";
      }
    }
    if (skipping) yield { number: number + 1, text: "", tooLong: true };
    else if (buffer.length > 0) yield line(number + 1, buffer, maxChars);
  } finally {
    // Stops the upload when the caller stops early (e.g. a row limit).
    await reader.cancel().catch(() => undefined);
  }
}

function line(number: number, raw: string, maxChars: number): Line {
  let text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  if (number === 1 && text.startsWith("\uFEFF")) text = text.slice(1);
  return text.length > maxChars ? { number, text: "", tooLong: true } : { number, text, tooLong: false };
}

export type CsvRecord = { line: number; fields: string[] } | { line: number; error: string };

/** CSV records from lines; blank lines between records are skipped. */
export async function* csvRecords(lines: AsyncIterable<Line>, maxChars: number): AsyncGenerator<CsvRecord> {
  let start = 0;
  let open = false;
  try {
    yield* records();
  } catch (error) {
    // A record cut off by the limit is read again, whole, from its first line.
    if (error instanceof UploadTooLargeError && open) error.nextLine = start;
    throw error;
  }

  async function* records(): AsyncGenerator<CsvRecord> {
    let fields: string[] = [];
    let field = "";
    let inQuotes = false;
    let fieldStart = true;
    let size = 0;

    for await (const { number, text, tooLong } of lines) {
      if (!open) {
        if (tooLong) {
          yield { line: number, error: `the line is longer than ${maxChars} characters` };
          continue;
        }
        if (text.trim() === "") continue;
        open = true;
        start = number;
        fields = [];
        field = "";
        fieldStart = true;
        size = 0;
      } else {
        field += "\n";
      }
      size += text.length;
      if (tooLong || size > maxChars) {
        yield { line: start, error: `the record is longer than ${maxChars} characters` };
        open = false;
        inQuotes = false;
        continue;
      }
      for (let i = 0; i < text.length; i++) {
        const ch = text[i]!;
        if (inQuotes) {
          if (ch !== '"') field += ch;
          else if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else inQuotes = false;
        } else if (ch === ",") {
          fields.push(field);
          field = "";
          fieldStart = true;
          continue;
        } else if (ch === '"' && fieldStart) {
          inQuotes = true;
        } else {
          field += ch;
        }
        fieldStart = false;
      }
      if (inQuotes) continue;
      fields.push(field);
      open = false;
      yield { line: start, fields };
    }
    if (open) yield { line: start, error: "a quoted field is not closed" };
  }
}
