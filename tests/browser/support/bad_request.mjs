// The field violations of a Connect error body, read from the binary
// google.rpc.BadRequest detail itself (the optional "debug" JSON is not relied
// on): BadRequest { repeated FieldViolation field_violations = 1; }
// FieldViolation { string field = 1; string description = 2; }

function varint(bytes, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Length-delimited fields of a message as [fieldNumber, bytes]; others skipped. */
function fields(bytes) {
  const out = [];
  let pos = 0;
  while (pos < bytes.length) {
    let key;
    [key, pos] = varint(bytes, pos);
    const wire = key & 7;
    if (wire === 2) {
      let len;
      [len, pos] = varint(bytes, pos);
      out.push([key >>> 3, bytes.subarray(pos, pos + len)]);
      pos += len;
    } else if (wire === 0) {
      [, pos] = varint(bytes, pos);
    } else {
      throw new Error(`unexpected wire type ${wire}`);
    }
  }
  return out;
}

/** { field: description } from a Connect JSON error body. */
export function fieldViolations(errorBody) {
  const out = {};
  for (const d of errorBody?.details ?? []) {
    if (d.type !== "google.rpc.BadRequest") continue;
    const raw = Buffer.from(d.value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    for (const [num, violation] of fields(raw)) {
      if (num !== 1) continue;
      const parts = Object.fromEntries(fields(violation).map(([n, b]) => [n, Buffer.from(b).toString("utf8")]));
      out[parts[1]] = out[parts[1]] ? `${out[parts[1]]}; ${parts[2]}` : parts[2];
    }
  }
  return out;
}
