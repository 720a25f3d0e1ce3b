/** The product has no stock row. HTTP 404 `PRODUCT_NOT_FOUND`. */
export class ProductNotFoundError extends Error {
  override readonly name = 'ProductNotFoundError';
  readonly productId: string;
  constructor(productId: string) {
    super(`Product "${productId}" has no stock record.`);
    this.productId = productId;
  }
}

/** Fewer items left than requested. HTTP 409 `INSUFFICIENT_STOCK`. */
export class InsufficientStockError extends Error {
  override readonly name = 'InsufficientStockError';
  readonly productId: string;
  readonly available: number;
  readonly requested: number;
  constructor(productId: string, available: number, requested: number) {
    super(`Product "${productId}" has ${available} left; ${requested} requested.`);
    this.productId = productId;
    this.available = available;
    this.requested = requested;
  }
}
