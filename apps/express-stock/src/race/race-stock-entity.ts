import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * DEMO ONLY: the stock of a product raced under one strategy, in a table of its own
 * (`<TABLE_PREFIX>race_stock`). The strategy is part of the key, so each row is only ever locked
 * on one store, and the app's own `stock` rows are never touched by the race.
 */
@Entity({ name: 'race_stock' })
export class RaceStock {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  strategy!: string;

  @PrimaryColumn({ type: 'varchar', length: 64, name: 'product_id' })
  productId!: string;

  @Column({ type: 'int' })
  quantity!: number;
}
