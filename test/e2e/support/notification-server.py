#!/usr/bin/python3
# Why this exists: headless Chromium has no notification to click, and a click that a
# script dispatches in the worker carries no user activation, so the browser refuses the
# worker's focus() and openWindow() (which is what a real click allows). On Linux,
# Chromium shows notifications through the desktop's org.freedesktop.Notifications
# service on the session bus; this is that service, on a private bus the test starts. It
# prints `notify ID TITLE` for each notification Chromium shows, and on the line
# `click ID` on stdin it sends the ActionInvoked(ID, 'default') signal, as a desktop does
# when the user clicks the notification: Chromium then fires a real notificationclick.
# Firefox (alerts.useSystemBackend) uses the same service through libnotify, and does too.
import json
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

INTERFACE = '''<node><interface name="org.freedesktop.Notifications">
  <method name="Notify">
    <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
    <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
    <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/>
  </method>
  <method name="CloseNotification"><arg type="u" direction="in"/></method>
  <method name="GetCapabilities"><arg type="as" direction="out"/></method>
  <method name="GetServerInformation">
    <arg type="s" direction="out"/><arg type="s" direction="out"/><arg type="s" direction="out"/><arg type="s" direction="out"/>
  </method>
  <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
  <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>'''
PATH = '/org/freedesktop/Notifications'
NAME = 'org.freedesktop.Notifications'

node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)
state = {'connection': None, 'next': 0}


def say(*words):
    print(' '.join(str(word) for word in words), flush=True)


def on_call(connection, sender, path, interface, method, parameters, invocation):
    if method == 'Notify':
        state['next'] += 1
        say('notify', state['next'], json.dumps(parameters.unpack()[3]))
        invocation.return_value(GLib.Variant('(u)', (state['next'],)))
    elif method == 'GetCapabilities':
        invocation.return_value(GLib.Variant('(as)', (['actions', 'body'],)))
    elif method == 'GetServerInformation':
        invocation.return_value(GLib.Variant('(ssss)', ('tidings-test', 'tidings', '1', '1.2')))
    else:
        invocation.return_value(None)


def on_bus(connection, name):
    state['connection'] = connection
    connection.register_object(PATH, node.interfaces[0], on_call, None, None)


def on_name(connection, name):
    say('ready')


def on_lost(connection, name):
    say('lost', name)
    sys.exit(1)


def on_line(channel, condition):
    line = channel.readline()
    if not line:  # the test ended: stdin closed
        loop.quit()
        return False
    words = line.split()
    if len(words) == 2 and words[0] == 'click':
        signal = GLib.Variant('(us)', (int(words[1]), 'default'))
        state['connection'].emit_signal(None, PATH, NAME, 'ActionInvoked', signal)
        say('clicked', words[1])
    return True


Gio.bus_own_name(Gio.BusType.SESSION, NAME, Gio.BusNameOwnerFlags.NONE, on_bus, on_name, on_lost)
GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.IO_IN | GLib.IO_HUP, on_line)
loop = GLib.MainLoop()
loop.run()
