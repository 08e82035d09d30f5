// What a service worker ships with Firebase Messaging. A classic script (bundled to an
// IIFE), so the same file runs in Chromium for the push timings. The config is made up:
// the push path does not talk to Firebase, only getToken() would.
import { initializeApp } from 'firebase/app';
import { getMessaging, onBackgroundMessage } from 'firebase/messaging/sw';

const app = initializeApp({
  apiKey: 'bench-api-key',
  projectId: 'tidings-bench',
  appId: '1:000000000000:web:0000000000000000',
  messagingSenderId: '000000000000',
});
// Firebase shows `notification` payloads itself; the handler is where a site adds its own.
onBackgroundMessage(getMessaging(app), () => {});
