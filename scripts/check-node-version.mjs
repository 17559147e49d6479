// Stops a project script early, with a clear message, when it is not running on Node.js 24 or later.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `weft: Node.js ${process.versions.node} is too old; Weft runs on Node.js 24 LTS or later.\n` +
      'Run project commands through npm (npm test, npm start), which use the node@24 dev dependency after `npm ci`.',
  );
  process.exit(1);
}
