// @peculiar/x509, loaded after the Reflect polyfill its dependency injection (tsyringe) needs at import time.
// The one exception to "only main.ts imports reflect-metadata": without it, importing @peculiar/x509 throws.
// eslint-disable-next-line no-restricted-imports
import 'reflect-metadata';
export * from '@peculiar/x509';
