/** Node-only helpers for embedders: open disk images from files. */
export { openRawFile, NodeFileBackend } from './block/node-file.js';
export { openImage, createOverlay } from './block/node-open.js';
