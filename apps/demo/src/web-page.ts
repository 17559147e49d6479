// The demo front end's home page: a few links to its API, no scripts.

export const WEB_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Weft demo shop</title>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }</style>
</head>
<body>
<h1>Weft demo shop</h1>
<p>A plain HTTP/1.1 front end. It asks the <em>catalog</em> over gRPC and the <em>feed</em> over WebSocket,
through the mesh, without knowing there is one.</p>
<ul>
<li><a href="/api/items">/api/items</a>: every item (catalog ListItems, a server stream)</li>
<li><a href="/api/items/1">/api/items/1</a>: one item (catalog GetItem)</li>
<li><a href="/api/feed?n=5">/api/feed?n=5</a>: the first five messages of the live feed</li>
<li><a href="/healthz">/healthz</a>: health</li>
</ul>
<p>The <code>servedBy</code> field names the catalog instance that answered.</p>
</body>
</html>
`;
