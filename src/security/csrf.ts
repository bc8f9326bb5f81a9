// Headers that prove a request is not a browser's cross-site "simple" request: a page on
// another origin cannot set them without a CORS preflight, which Herald grants only to the
// origins of CORS_ORIGINS (security/cors.ts), whose pages are trusted to call it anyway.
// Every real client sends one of them: the SDK, curl and GraphiQL send Authorization (Herald
// needs it anyway); `x-graphql-yoga-csrf` is yoga's own for anything else.
export const CSRF_HEADERS = ['authorization', 'x-graphql-yoga-csrf'] as const;
