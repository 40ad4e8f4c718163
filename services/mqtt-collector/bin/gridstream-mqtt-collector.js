#!/usr/bin/env node
// npm links a package's bins when it installs, before the first build: a bin pointing at dist/ would not
// exist then, npm would skip the link, and `npx` would say "could not determine executable to run".
// This file exists from the clone on; it runs the built command.
import '../dist/main.js';
