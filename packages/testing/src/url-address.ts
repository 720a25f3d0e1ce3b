/**
 * `url` with its host and port replaced, everything else (scheme, user, password, path, query)
 * kept. Works for non-special schemes such as `redis://` and `mysql://`.
 *
 * @example
 * withAddress('mysql://root@db:3306/test', '127.0.0.1', 40123); // 'mysql://root@127.0.0.1:40123/test'
 */
export function withAddress(url: string, host: string, port: number): string {
  const parsed = new URL(url);
  if (parsed.host === '')
    throw new TypeError(`Cannot point "${url}" at the link: it has no host to replace.`);
  parsed.hostname = host.includes(':') ? `[${host}]` : host;
  parsed.port = String(port);
  return parsed.toString();
}
