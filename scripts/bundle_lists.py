"""The data lists build.spec reads: which fonts the PyInstaller build copies, and which Qt
modules, plugins, libraries and Python modules it leaves out. Only data: the spec holds the
logic that applies them."""

from pathlib import Path

# DejaVu (free licence: Bitstream Vera derivative). PySide6's Linux wheels carry no fonts, so a
# machine without any shows empty boxes; minicrm_desktop/views/shell/fonts.py registers these then.
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/TTF"),
             Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts/dejavu-sans-fonts")]
FONT_FILES = ("DejaVuSans.ttf",)  # Qt draws bold by emboldening it
# The licence must travel with the font (Debian, then Fedora and Arch keep it here).
FONT_LICENCES = [Path("/usr/share/doc/fonts-dejavu-core/copyright"),
                 Path("/usr/share/licenses/dejavu-sans-fonts/LICENSE"),
                 Path("/usr/share/licenses/ttf-dejavu/LICENSE")]


# Qt modules the app never imports. PyInstaller's Qt hooks already follow imports, but naming
# these keeps a stray import in some library from pulling in hundreds of MB (WebEngine alone
# is ~200 MB). QtCharts stays: the campaign page draws its charts with it.
UNUSED_QT = [
    "Qt3DAnimation", "Qt3DCore", "Qt3DExtras", "Qt3DInput", "Qt3DLogic", "Qt3DRender",
    "QtBluetooth", "QtDataVisualization", "QtDesigner", "QtGraphs", "QtGraphsWidgets", "QtHelp",
    "QtHttpServer", "QtLocation", "QtMultimedia", "QtMultimediaWidgets", "QtNetworkAuth",
    "QtNfc", "QtOpenGL", "QtOpenGLWidgets", "QtPdf", "QtPdfWidgets", "QtPositioning",
    "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2", "QtQuickTest", "QtQuickWidgets",
    "QtRemoteObjects", "QtScxml", "QtSensors", "QtSerialBus", "QtSerialPort",
    "QtSpatialAudio", "QtSql", "QtStateMachine", "QtTest", "QtTextToSpeech", "QtUiTools",
    "QtWebChannel", "QtWebEngineCore", "QtWebEngineQuick", "QtWebEngineWidgets",
    "QtWebSockets", "QtWebView", "QtXml", "QtAxContainer",
    # (QtCharts still loads the OpenGL libraries; only their Python modules go.)
    # Networking goes through Python (PyMySQL, httpx, requests), never Qt: QtNetwork would add
    # ~5 MB with its Kerberos libraries and TLS plugins. A view that starts using it fails
    # the packaged self-test's module check until it is removed from this list.
    "QtNetwork",
]
# Big libraries that come with the development environment, not the app.
UNUSED_LIBS = ["tkinter", "_tkinter", "pytest", "_pytest", "pytestqt", "hypothesis", "mypy",
               "ruff", "IPython", "numpy", "PIL", "matplotlib", "pip", "setuptools",
               "pkg_resources", "PyInstaller", "alembic.testing", "sqlalchemy.testing",
               # Syntax highlighting, reached only from Mako's and httpx's optional extras.
               "pygments", "mako.ext.pygmentplugin"]
# (SQLAlchemy's PostgreSQL, Oracle and MSSQL dialects stay: Alembic imports them.)


# Qt plugin folders, and single plugins, the app never loads. Some drag in big libraries:
# the PDF image format needs QtPdf, the virtual keyboard needs QtQuick and QML (~25 MB
# together), the GTK 3 theme needs GTK, GDK, Cairo and Pango (~15 MB). Without that theme
# the app still draws with Fusion and its own palettes, QtGui still reads the desktop's
# light/dark setting from the XDG portal over D-Bus, and file dialogs are Qt's own.
UNUSED_QT_PLUGIN_DIRS = {
    "assetimporters", "canbus", "designer", "egldeviceintegrations", "generic",
    "geometryloaders", "geoservices", "multimedia", "networkinformation", "position",
    "qmllint", "qmltooling", "renderers", "renderplugins", "sceneparsers", "scxmldatamodel",
    "sensors", "sqldrivers", "texttospeech", "webview",
}
UNUSED_QT_PLUGINS = {
    "qpdf", "qtvirtualkeyboardplugin", "qgtk3",
    # Image formats: the app shows SVG icons and PNGs only (PNG is built into QtGui).
    "qgif", "qicns", "qjpeg", "qtga", "qtiff", "qwbmp", "qwebp",
    # Platforms for kiosks and embedded boards; xcb, wayland, offscreen and minimal stay.
    "qeglfs", "qlinuxfb", "qminimalegl", "qvkkhrdisplay", "qvnc",
}
# Qt libraries only those plugins need (matched anywhere in the name: Qt6Quick.dll,
# libQt6Quick.so.6). On Linux without_orphan_libraries() also finds the system ones.
UNUSED_QT_LIBRARIES = ("Qt6Quick", "Qt6Qml", "Qt6Pdf", "Qt6VirtualKeyboard", "Qt6EglFS",
                       "Qt6EglFs")
# Linux desktop libraries taken from the system, like PyInstaller already does for libGL and
# libxcb: the README lists them as the app's requirements (every desktop has them), and
# the system's own copies match its D-Bus daemon and its fonts.conf, which a fontconfig
# copied from the build machine may not understand. What only they needed (systemd,
# gcrypt, pcre2, freetype...) then goes too, see without_orphan_libraries().
SYSTEM_LIBRARIES = ("libdbus-1.so", "libglib-2.0.so", "libgthread-2.0.so", "libfontconfig.so",
                    "libfreetype.so")
# Python's CJK codecs: the app reads and writes UTF-8 only.
UNUSED_EXTENSIONS = ("_codecs_jp", "_codecs_kr", "_codecs_cn", "_codecs_tw", "_codecs_hk",
                     "_codecs_iso2022", "_multibytecodec")
