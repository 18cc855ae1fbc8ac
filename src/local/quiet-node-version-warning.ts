/**
 * The AWS SDK warns on every client's first use under Node.js < 22 (nine lines per process). Berth
 * supports Node.js 20 locally and says so in the README; the warning tells Berth's users nothing they
 * can act on inside Berth. Imported first by Berth's own entry points, before any client exists.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
