// Launch flags for the headless Chromium of the browser tests (the @sparticuz/chromium package).
/** Without these, Chromium on a machine with no internet stalls on network features. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
