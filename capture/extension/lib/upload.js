// Sending a bundle to a guidecast server in parts, resuming after a network error where the server
// says it stopped (GET /api/recordings/{id} tells how many bytes it holds).
//   POST /api/recordings {size, sha256, title}      -> {id, received, part_size}
//   PUT  /api/recordings/{id}?offset=N  (bytes)     -> {received}
//   POST /api/recordings/{id}/finish                -> {guide_id, job_id, editor_url}

export const PART_SIZE = 1 << 20;

export class UploadError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function answer(res) {
  let body;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  if (!res.ok) {
    const detail = body && (body.detail || body.error || body.message);
    const say = typeof detail === "string" ? detail : `the server answered ${res.status}`;
    throw new UploadError(res.status === 401 ? "the API token is wrong or revoked: paste a new one from your " +
      "account page" : say, res.status);
  }
  return body;
}

/**
 * Upload `bytes` (a Uint8Array) to `server` with `token`. `onProgress(sent, total)`.
 * Network errors are retried (`retries` times per part, waiting `waitMs` more each time) and the
 * upload resumes at the offset the server reports; HTTP errors stop it with the server's message.
 */
export async function uploadBundle(bytes, { server, token, title, sha256, fetchImpl = fetch, partSize = PART_SIZE,
  retries = 5, waitMs = 500, onProgress = () => {}, resume = null } = {}) {
  const base = server.replace(/\/+$/, "");
  const headers = { Authorization: `Bearer ${token}` };
  const call = async (path, init = {}) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await answer(await fetchImpl(base + path, { ...init, headers: { ...headers, ...(init.headers || {}) } }));
      } catch (e) {
        if (e instanceof UploadError || attempt >= retries) {
          throw e instanceof UploadError ? e : new UploadError(`cannot reach ${base} (${e.message}); the ` +
            "recording is kept: send it again later or save it as a file");
        }
        await sleep(waitMs * (attempt + 1));
      }
    }
  };
  let session = resume;
  if (!session) {
    session = await call("/api/recordings", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ size: bytes.length, sha256, title }) });
  }
  const id = session.id;
  const step = Math.min(partSize, session.part_size || partSize);
  let received = (await call(`/api/recordings/${id}`)).received;
  let failures = 0;
  while (received < bytes.length) {
    const part = bytes.subarray(received, Math.min(bytes.length, received + step));
    try {
      const res = await fetchImpl(`${base}/api/recordings/${id}?offset=${received}`, {
        method: "PUT", headers: { ...headers, "Content-Type": "application/octet-stream" }, body: part });
      received = (await answer(res)).received;
      failures = 0;
    } catch (e) {
      if (e instanceof UploadError && e.status !== 409) throw e;
      if (++failures > retries) {
        throw new UploadError(`the upload to ${base} broke off ${failures} times; the recording is kept: send ` +
          "it again later or save it as a file");
      }
      await sleep(waitMs * failures);
      received = (await call(`/api/recordings/${id}`)).received; // where the server stopped
    }
    onProgress(received, bytes.length);
  }
  return { id, ...(await call(`/api/recordings/${id}/finish`, { method: "POST" })) };
}
