"""JupyterHub for the course: instructors and students, nbgrader's exchange, the staged data.

Run from this folder's parent or anywhere:  jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
Everything site-specific comes from environment variables (defaults in brackets):

  COURSE_INSTRUCTORS   comma-separated user names of instructors       [instructor]
  COURSE_STUDENTS      comma-separated user names of students          [] (then any user the
                                                                       authenticator accepts)
  NBGRADER_COURSE_ID   the nbgrader course id                          [intro-dl]
  NBGRADER_EXCHANGE    the exchange: a folder every user can write     [/srv/nbgrader/exchange]
  COURSE_DATA_DIR      the staged data sets, shared read-only          [/srv/intro-dl/data]
  COURSE_OFFLINE       1: the loaders never download                   [unset]
  COURSE_ROOT_NAME     the course root in an instructor's home         [intro-dl-course]
  COURSE_HUB_AUTH      pam (system users) | dummy (one shared password, tests and demos) [pam]
  COURSE_HUB_PASSWORD  the password with COURSE_HUB_AUTH=dummy
  COURSE_HUB_SPAWNER   local (system users, real isolation) | simple (every server runs as the
                       hub's own user with HOME=COURSE_HUB_HOMES/<name>: tests and demos only) [local]
  COURSE_HUB_HOMES     home folders with COURSE_HUB_SPAWNER=simple     [/tmp/intro-dl-homes]
  COURSE_HUB_STATE     the hub's database, cookie secret, pid files    [/srv/jupyterhub]
  COURSE_HUB_IP, COURSE_HUB_PORT   where the hub listens               [0.0.0.0, 8000]
  COURSE_HUB_PROXY     configurable-http-proxy's command               [configurable-http-proxy]
  COURSE_GRADER        the instructor whose course root grades each submission as it arrives
                       (the hub service course-feedback; which assignments: FeedbackService in
                       that course root's nbgrader_config.py)                [unset: no service]
"""
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub)

HERE = Path(__file__).resolve().parent


def _names(var: str, default: str = "") -> list[str]:
    return [n.strip() for n in os.environ.get(var, default).split(",") if n.strip()]


COURSE_ID = os.environ.get("NBGRADER_COURSE_ID", "intro-dl")
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
DATA_DIR = os.environ.get("COURSE_DATA_DIR", "/srv/intro-dl/data")
COURSE_ROOT_NAME = os.environ.get("COURSE_ROOT_NAME", "intro-dl-course")
INSTRUCTORS = _names("COURSE_INSTRUCTORS", "instructor")
STUDENTS = _names("COURSE_STUDENTS")
STATE = Path(os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub"))
STATE.mkdir(parents=True, exist_ok=True)

# --- the hub, its proxy and its state ------------------------------------------------------
c.JupyterHub.bind_url = "http://{}:{}".format(os.environ.get("COURSE_HUB_IP", "0.0.0.0"),
                                              os.environ.get("COURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.ConfigurableHTTPProxy.command = [os.environ.get("COURSE_HUB_PROXY", "configurable-http-proxy")]
# single-user servers end with the hub (a teaching hub restarts rarely; students lose nothing saved)
c.JupyterHub.cleanup_servers = True

# --- who is who -------------------------------------------------------------------------
if os.environ.get("COURSE_HUB_AUTH", "pam") == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["COURSE_HUB_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = "pam"
if STUDENTS:
    c.Authenticator.allowed_users = set(INSTRUCTORS) | set(STUDENTS)
else:
    c.Authenticator.allow_all = True
# nbgrader's group names: formgrade-<course> (instructors) and nbgrader-<course> (students);
# nbgrader's JupyterHubAuthPlugin reads them when one hub serves several courses.
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE_ID}": {"users": INSTRUCTORS},
    f"nbgrader-{COURSE_ID}": {"users": STUDENTS},
}
# Instructors may see who is on the hub and start/stop (not enter) students' servers.
c.JupyterHub.load_roles = [{
    "name": "course-instructor",
    "description": f"instructors of {COURSE_ID}",
    "groups": [f"formgrade-{COURSE_ID}"],
    "scopes": ["self", f"read:users!group=nbgrader-{COURSE_ID}", f"servers!group=nbgrader-{COURSE_ID}"],
}]

# --- the single-user servers -------------------------------------------------------------
if os.environ.get("COURSE_HUB_SPAWNER", "local") == "simple":
    c.JupyterHub.spawner_class = "simple"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
        os.environ.get("COURSE_HUB_HOMES", "/tmp/intro-dl-homes"), "{username}")
    if os.getuid() == 0:        # every server runs as the hub's user: root in a container or CI
        c.Spawner.args = ["--allow-root"]
else:
    c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
# the course's environment (the one of requirements.lock): jupyterhub-singleuser next to this Python
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "NBGRADER_COURSE_ID": COURSE_ID,
    "NBGRADER_EXCHANGE": EXCHANGE,
    "COURSE_DATA_DIR": DATA_DIR,          # read-only for users: the loaders only read it
    "KERAS_BACKEND": "torch",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    # this folder holds the global nbgrader_config.py (course id, exchange)
    "JUPYTER_CONFIG_PATH": str(HERE),
}
if os.environ.get("COURSE_OFFLINE"):
    c.Spawner.environment["COURSE_OFFLINE"] = os.environ["COURSE_OFFLINE"]


def pre_spawn_hook(spawner):
    """Instructors get their course root; students get no formgrader and no Create Assignment."""
    name = spawner.user.name
    home = getattr(spawner, "home_dir", None) or os.path.expanduser(f"~{name}")
    if name in INSTRUCTORS:
        spawner.environment["NBGRADER_COURSE_ROOT"] = os.path.join(home, COURSE_ROOT_NAME)
    else:
        spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(HERE / "student"), str(HERE)])


c.Spawner.pre_spawn_hook = pre_spawn_hook

# The exchange must exist and be writable by every user (nbgrader's own instructions:
# a world-writable folder; nbgrader sets the permissions of what it creates inside).
try:
    os.makedirs(EXCHANGE, exist_ok=True)
    os.chmod(EXCHANGE, 0o777)
except PermissionError:
    print(f"jupyterhub_config: cannot create {EXCHANGE}; create it with mode 777", file=sys.stderr)


# --- feedback on submission (autograder/feedback_service.py) ---------------------------------
# A hub-managed service (the hub starts it, and starts it again if it ends) that grades each
# submission in the grader's course root, in the sandbox, and releases its feedback.  It runs as
# the grader's system user (LocalProcessSpawner), or as the hub's user with the simple spawner.
GRADER = os.environ.get("COURSE_GRADER", "").strip()
if GRADER:
    if os.environ.get("COURSE_HUB_SPAWNER", "local") == "simple":
        grader_home = os.path.join(os.environ.get("COURSE_HUB_HOMES", "/tmp/intro-dl-homes"), GRADER)
        run_as = {}
    else:
        grader_home = os.path.expanduser(f"~{GRADER}")
        run_as = {"user": GRADER}
    c.JupyterHub.services = [{
        "name": "course-feedback",
        "command": [sys.executable, "-m", "autograder", "feedback-service",
                    "--course-dir", os.path.join(grader_home, COURSE_ROOT_NAME), "--exchange", EXCHANGE],
        "cwd": grader_home,
        "environment": {k: v for k, v in c.Spawner.environment.items() if k != "MPLBACKEND"},
        **run_as,
    }]
