// Test helper: a small mesh file of launched instances, read as weft up reads it.
import { parseMeshFile } from '@weft/adapter-file';
import { planMesh, type UpPlan } from './mesh-plan.js';

export const SHOP_MESH = `apiVersion: weft.io/v1
namespaces: [shop]
services:
  - name: web
    namespace: shop
    ports: [{ port: 8080, protocol: http1 }]
    instances:
      - command: [node, web.js]
        port: 7001
        env: { GREETING: hi }
        proxy: { inboundPort: 4301 }
        upstreams:
          - { service: "books:7000", env: BOOKS_ADDR }
          - { service: "books:7001", env: BOOKS_ADMIN_ADDR, localPort: 5001 }
  - name: books
    namespace: shop
    ports: [{ port: 7000, protocol: grpc }, { port: 7001, name: admin }]
    instances:
      - command: node books.js
        cwd: sub
        port: 7101
        ports: { admin: 7201 }
      - name: books-legacy
        command: [./legacy]
        port: 7102
        ports: { admin: 7202 }
        meshed: false
  - name: db
    namespace: shop
    ports: [5432]
    instances:
      - address: 10.0.0.9:5432
`;

export function planOf(text: string = SHOP_MESH, file = '/srv/mesh/mesh.yaml'): UpPlan {
  const parsed = parseMeshFile(text, file);
  if (!parsed.ok) throw new Error(parsed.error.map((error) => error.toString()).join('\n'));
  return planMesh(parsed.value);
}
