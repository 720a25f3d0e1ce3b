/**
 * How to start a store that is not running, for startup and demo error messages.
 *
 * @example
 * console.error(storeStartHint('redis'));
 */
export function storeStartHint(store: 'redis' | 'mysql'): string {
  if (store === 'redis') {
    return [
      'Start Redis, then try again:',
      '  local:  redis-server --daemonize yes --port 6379   (install: apt-get install redis-server / brew install redis)',
      '  Docker: docker compose up -d redis                   (from the repository root)',
      '  or point REDIS_URL at a running Redis.',
    ].join('\n');
  }
  return [
    'Start MySQL or MariaDB (database "test", user root without password), then try again:',
    '  local:  sudo systemctl start mariadb   (install: apt-get install mariadb-server / brew install mariadb)',
    '  Docker: docker compose up -d mysql       (from the repository root)',
    '  or point MYSQL_URL at a running server, e.g. mysql://user:pass@127.0.0.1:3306/test',
  ].join('\n');
}
