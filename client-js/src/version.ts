/** This package's name and version, sent in `Join.client` (a unit test keeps it equal to package.json). */
export const SDK_NAME = "@dark-tower/client";
/** This package's version. */
export const SDK_VERSION = "0.1.0";
