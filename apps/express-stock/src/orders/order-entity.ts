import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A placed order. The table is `<TABLE_PREFIX>order` (`demo_order` by default). */
@Entity({ name: 'order' })
export class Order {
  @PrimaryGeneratedColumn({ type: 'int' })
  id!: number;

  @Column({ type: 'varchar', length: 64, name: 'user_id' })
  userId!: string;

  @Column({ type: 'varchar', length: 64, name: 'product_id' })
  productId!: string;

  @Column({ type: 'int' })
  quantity!: number;

  // The default is spelled out so that it matches the migration's column exactly.
  @CreateDateColumn({
    type: 'datetime',
    precision: 3,
    name: 'created_at',
    default: () => 'CURRENT_TIMESTAMP(3)',
  })
  createdAt!: Date;
}
