// firebase-worker.iife.js is bench/entries/firebase-worker.js as bench/size.mjs bundled it.
importScripts('/probe-sw.js', '/firebase-worker.iife.js');
