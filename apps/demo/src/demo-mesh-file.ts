// Where the built-in demo mesh is: apps/demo/mesh.yaml, found from src/ (tests) and from dist/ (built) alike.
import { fileURLToPath } from 'node:url';

/** The absolute path of the demo mesh that `weft up` runs when it is given no file. */
export const DEMO_MESH_FILE = fileURLToPath(new URL('../mesh.yaml', import.meta.url));

/** The demo's services, each built to apps/demo/dist/<name>.js. */
export const DEMO_SERVICES = ['web', 'catalog', 'feed', 'traffic'] as const;

export type DemoServiceName = (typeof DEMO_SERVICES)[number];

/** The absolute path of a service's built entry file. */
export function demoServiceEntry(name: DemoServiceName): string {
  return fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));
}
