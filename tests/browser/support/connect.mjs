// Connect unary calls (JSON) made from inside a page with its fetch, so they
// carry that page's session cookie: what a script on the page could do.
export async function call(page, method, body = {}) {
  return page.evaluate(async ({ method, body }) => {
    const resp = await fetch(`/${method}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
      body: JSON.stringify(body),
    });
    const text = await resp.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON: kept as text */ }
    return { status: resp.status, json, text };
  }, { method, body });
}

/** The reply of a call that must succeed. */
export async function ok(page, method, body = {}) {
  const r = await call(page, method, body);
  if (r.status !== 200) throw new Error(`${method} ${JSON.stringify(body)}: HTTP ${r.status} ${r.text}`);
  return r.json;
}

/** Every item of a paginated list method, following next_page_token. */
export async function all(page, method, body, field) {
  const out = [];
  let pageToken = "";
  do {
    const r = await ok(page, method, { ...body, pageToken, pageSize: 500 });
    out.push(...(r[field] ?? []));
    pageToken = r.nextPageToken ?? "";
  } while (pageToken);
  return out;
}

export const cents = (v) => BigInt(v ?? 0);
