#!/usr/bin/python3
# Why this exists: stock MiniBrowser answers 'denied' to every notification permission
# request, and WebKitGTK keeps a grant only on a persistent profile. This tiny WebKitGTK
# browser, on a persistent profile, pre-grants notifications to one origin (--grant) or
# answers Allow to one origin's prompt (--allow; WebKit only prompts inside a user
# gesture), turns on the runtime features asked for, and leaves the rest of WebKit alone.
# WebKitWebDriver drives it (--automation); the worker tests open it on a URL instead and
# reach page and service worker through the remote inspector.
#
#   webkit-embedder.py --profile=DIR [--features=+PushAPI,-AppBadge] [--grant=ORIGIN]
#                      [--allow=ORIGIN] (--automation | URL)
import sys

import gi

gi.require_version('Gtk', '3.0')
gi.require_version('WebKit2', '4.1')
from gi.repository import Gtk, WebKit2  # noqa: E402

options = dict(a[2:].split('=', 1) for a in sys.argv[1:] if a.startswith('--') and '=' in a)
url = next((a for a in sys.argv[1:] if not a.startswith('--')), None)

manager = WebKit2.WebsiteDataManager(base_data_directory=options['profile'] + '/data',
                                     base_cache_directory=options['profile'] + '/cache')
context = WebKit2.WebContext.new_with_website_data_manager(manager)
settings = WebKit2.Settings(enable_developer_extras=True)
wanted = {f[1:]: f[0] == '+' for f in options.get('features', '').split(',') if f}
features = WebKit2.Settings.get_all_features()
for i in range(features.get_length()):
    feature = features.get(i)
    if feature.get_identifier() in wanted:
        settings.set_feature_enabled(feature, wanted[feature.get_identifier()])


def grant(ctx):
    if 'grant' in options:
        ctx.initialize_notification_permissions([WebKit2.SecurityOrigin.new_for_uri(options['grant'])], [])


def allow_notifications(view, request):
    # What a user who clicks Allow does. WebKit refuses a request made without a user
    # gesture before it gets here; any other origin's request is denied.
    if not isinstance(request, WebKit2.NotificationPermissionRequest):
        return False
    origin = view.get_uri() and WebKit2.SecurityOrigin.new_for_uri(view.get_uri()).to_string()
    request.allow() if origin == options.get('allow') else request.deny()
    return True


def new_view(automated):
    view = WebKit2.WebView(web_context=context, settings=settings, is_controlled_by_automation=automated)
    window = Gtk.Window(default_width=800, default_height=600)
    window.add(view)
    view.connect('close', lambda v: window.destroy())
    view.connect('permission-request', allow_notifications)
    window.show_all()
    return view


def automation_started(ctx, session):
    info = WebKit2.ApplicationInfo()
    info.set_name('tidings-webkit-embedder')
    info.set_version(1, 0, 0)
    session.set_application_info(info)
    session.connect('create-web-view', lambda s: new_view(True))


context.connect('initialize-notification-permissions', grant)
if '--automation' in sys.argv:
    context.set_automation_allowed(True)
    context.connect('automation-started', automation_started)
else:
    new_view(False).load_uri(url)
Gtk.main()
