// What a page ships with Firebase Messaging: the four calls a push site makes.
export { initializeApp } from 'firebase/app';
export { getMessaging, getToken, onMessage } from 'firebase/messaging';
