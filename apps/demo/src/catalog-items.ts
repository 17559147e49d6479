// The demo catalog's fixed product list.

export interface CatalogItem {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
  readonly stock: number;
}

/** What every catalog instance serves, in id order; ids are "1" to "8". */
export const CATALOG_ITEMS: readonly CatalogItem[] = [
  { id: '1', name: 'Loom shuttle', priceCents: 1250, stock: 14 },
  { id: '2', name: 'Linen thread, 500 m', priceCents: 690, stock: 120 },
  { id: '3', name: 'Heddle hook', priceCents: 420, stock: 37 },
  { id: '4', name: 'Warping board', priceCents: 8900, stock: 3 },
  { id: '5', name: 'Reed, 10 dents/inch', priceCents: 3400, stock: 9 },
  { id: '6', name: 'Bobbin winder', priceCents: 5600, stock: 5 },
  { id: '7', name: 'Wool weft, natural', priceCents: 1800, stock: 42 },
  { id: '8', name: 'Tapestry beater', priceCents: 2300, stock: 11 },
];
