/** The part of the reflect-metadata polyfill dlock uses, typed locally so it needs no global types. */
interface ReflectMetadataApi {
  defineMetadata(key: unknown, value: unknown, target: object, propertyKey?: string | symbol): void;
  getOwnMetadataKeys(target: object, propertyKey?: string | symbol): unknown[];
  getOwnMetadata(key: unknown, target: object, propertyKey?: string | symbol): unknown;
}

/** The reflect-metadata API if the application loaded it, else `undefined` (dlock does not need it). */
function loadedReflectMetadata(): ReflectMetadataApi | undefined {
  const api = Reflect as unknown as Partial<ReflectMetadataApi>;
  return typeof api.defineMetadata === 'function' &&
    typeof api.getOwnMetadataKeys === 'function' &&
    typeof api.getOwnMetadata === 'function'
    ? (api as ReflectMetadataApi)
    : undefined;
}

/**
 * Give `wrapper` every reflect-metadata entry an inner decorator put on `original` (route, guard or
 * `@Transactional` metadata), so stacking `@DistributedLock` over them keeps them visible. Without
 * reflect-metadata loaded there is nothing to copy.
 */
export function copyReflectMetadata(original: object, wrapper: object): void {
  const reflect = loadedReflectMetadata();
  if (!reflect) return;
  for (const metadataKey of reflect.getOwnMetadataKeys(original)) {
    reflect.defineMetadata(metadataKey, reflect.getOwnMetadata(metadataKey, original), wrapper);
  }
}
