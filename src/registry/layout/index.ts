/**
 * The OCI image layout store (image-spec 1.1 `image-layout.md`) behind the Repository seam:
 * `oci:<dir>[:<tag>|@<digest>]` references read and write here.
 */
export { LayoutRepository, openLayoutRepository, REF_NAME_ANNOTATION } from './store.js';
