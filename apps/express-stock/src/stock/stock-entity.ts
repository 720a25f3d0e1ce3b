import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One product's stock. The table is `<TABLE_PREFIX>stock` (`demo_stock` by default).
 * Column types are spelled out because tsx/esbuild emit no `design:type` metadata.
 */
@Entity({ name: 'stock' })
export class Stock {
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'product_id' })
  productId!: string;

  @Column({ type: 'int' })
  quantity!: number;
}
