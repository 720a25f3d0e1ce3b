/** The part of the reflect-metadata polyfill dlock uses, typed locally so it needs no global types. */
interface ReflectMetadataApi {
  defineMetadata(key: unknown, value: unknown, target: object, propertyKey?: string | symbol): void;
  getMetadata(key: unknown, target: object, propertyKey?: string | symbol): unknown;
  getOwnMetadataKeys(target: object, propertyKey?: string | symbol): unknown[];
  getOwnMetadata(key: unknown, target: object, propertyKey?: string | symbol): unknown;
}

/** The reflect-metadata API, or a clear error telling the user to load it. */
export function reflectMetadata(): ReflectMetadataApi {
  const api = Reflect as unknown as Partial<ReflectMetadataApi>;
  if (typeof api.defineMetadata !== 'function' || typeof api.getMetadata !== 'function') {
    throw new Error(
      "@DistributedLock needs reflect-metadata: install it and import 'reflect-metadata' once at your entry point.",
    );
  }
  return api as ReflectMetadataApi;
}
