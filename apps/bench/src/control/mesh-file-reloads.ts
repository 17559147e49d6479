// meshFileReloads: how many new versions of the mesh file weft-control counted, by result, read from its /metrics text.

/** The value of control_mesh_file_reloads_total{result=`result`} in Prometheus text; undefined when the series is absent. */
export function meshFileReloads(metricsText: string, result: 'applied' | 'invalid' | 'missing'): number | undefined {
  for (const line of metricsText.split('\n')) {
    const match = /^control_mesh_file_reloads_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (match !== null && (match[1] as string).split(',').includes(`result="${result}"`)) return Number(match[2]);
  }
  return undefined;
}
