importScripts('/probe-sw.js', '/floor/sw.js');
