"""Run an exercise's tests in the grader's own process, against values fetched from the sandbox.

A test is otter's OK format: doctest examples written as plain `assert` statements. Here they run
with the grader's own, untouched NumPy and Keras. A name the test does not define itself is
fetched from the sandbox when the test first reads it: plain data arrives as fresh objects, a
function as a `RemoteFunction` that runs in the sandbox and returns plain data, a Keras model as
a safely loaded copy. Nothing the notebook printed or did to its own modules reaches this process.
"""

import builtins
import doctest
import io
import json
import os
import shutil
import stat
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from course_tools.grading import protocol
from course_tools.grading.runner import SandboxDied, Session

MAX_MODEL_BYTES = 512 * 1024 * 1024
#: Largest model config the grader parses (the course's models need a few kilobytes).
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_MODEL_BYTES = 1024 * 1024 * 1024


class StudentCodeError(Exception):
    """The student's function raised, or a value could not be brought over from the notebook."""


class Opaque:
    """Stands for an object of the notebook that is not plain data: it equals nothing."""

    def __init__(self, type_name: str):
        self._type_name = type_name

    def __repr__(self) -> str:
        return f"<{self._type_name} object from the notebook, which the grader cannot inspect>"

    def __eq__(self, other):
        return False

    def __hash__(self):
        return id(self)

    def __bool__(self):
        raise TypeError(f"{self!r} has no truth value here")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise TypeError(
            f"{self!r}: the tests expected plain data, a function or a Keras model"
        )


class RemoteFunction:
    """A function that lives in the sandbox; calling it sends plain data there and back."""

    def __init__(self, judge: "Judge", handle: int, name: str):
        self._judge, self._handle, self.__name__ = judge, handle, str(name)

    def __repr__(self) -> str:
        return f"<function {self.__name__} of the notebook>"

    def __call__(self, *args, **kwargs):
        return self._judge.call(self, args, kwargs)


class StudentNamespace(dict):
    """Test globals that fetch any name the test itself does not define from the notebook."""

    def __init__(self, judge: "Judge"):
        super().__init__()
        self._judge = judge

    def __missing__(self, name):
        if name in builtins.__dict__ or name.startswith("__"):
            raise KeyError(name)
        value = self._judge.fetch(name)
        self[name] = value
        return value


def _last_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text.strip()[-1500:]


class Judge:
    def __init__(self, session: Session, private_dir: Path):
        self.session, self.private_dir = session, private_dir
        self._models = 0

    # --- values from the sandbox ------------------------------------------------------------

    def _decode_other(self, data):
        tag = data.get("$")
        if tag == "fn" and type(data.get("h")) is int:
            return RemoteFunction(self, data["h"], data.get("name", "?"))
        if tag == "model" and type(data.get("file")) is str:
            return self.load_model(data["file"])
        if tag == "opaque":
            return Opaque(str(data.get("type", "object"))[:200])
        raise protocol.ProtocolError(f"unexpected value tag {tag!r}")

    def _encode_other(self, value):
        if isinstance(value, RemoteFunction):
            return {"$": "fn", "h": value._handle}
        raise TypeError(
            f"the tests cannot send a {type(value).__name__} to the notebook"
        )

    def _value(self, reply: dict):
        if "value" not in reply:
            raise StudentCodeError(
                str(reply.get("failed", "no value came back"))[:1500]
            )
        try:
            return protocol.decode(reply["value"], on_other=self._decode_other)
        except protocol.ProtocolError as error:
            raise StudentCodeError(
                f"the notebook sent an unreadable value ({error})"
            ) from error

    def fetch(self, name: str):
        try:
            reply = self.session.request({"op": "get", "name": name})
        except SandboxDied as error:
            raise StudentCodeError(f"could not read {name!r}: {error}") from error
        if reply.get("missing"):
            raise KeyError(name)
        return self._value(reply)

    def call(self, function: RemoteFunction, args: tuple, kwargs: dict):
        message = {
            "op": "call",
            "h": function._handle,
            "args": protocol.encode(list(args), on_other=self._encode_other),
            "kwargs": protocol.encode(dict(kwargs), on_other=self._encode_other),
        }
        try:
            reply = self.session.request(message)
        except SandboxDied as error:
            raise StudentCodeError(
                f"{function.__name__}() did not return: {error}"
            ) from error
        if "raised" in reply:
            raise StudentCodeError(
                f"{function.__name__}() raised {reply['raised']}"[:1500]
            )
        return self._value(reply)

    # --- Keras models -----------------------------------------------------------------------

    def load_model(self, relative: str):
        """Copy a `.keras` file out of the sandbox, check its config, load it in safe mode."""
        workdir = self.session.workdir.resolve()
        source = (workdir / relative).resolve()
        if workdir not in source.parents:
            raise StudentCodeError(
                "the notebook pointed at a model file outside its folder"
            )
        self._models += 1
        target = self.private_dir / f"model-{self._models}.keras"
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as error:
            raise StudentCodeError(
                f"could not read the saved model ({error})"
            ) from error
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MODEL_BYTES:
                raise StudentCodeError(
                    "the saved model is not a regular file of sane size"
                )
            with open(target, "wb") as out:
                shutil.copyfileobj(handle, out)
        check_model_archive(target)
        import keras

        try:
            return keras.saving.load_model(target, compile=False, safe_mode=True)
        except Exception as error:
            raise StudentCodeError(
                f"the model could not be loaded ({_last_line(error)})"
            ) from error

    # --- tests ------------------------------------------------------------------------------

    def run_case(self, body: str, hidden: bool) -> tuple[bool, str]:
        examples = doctest.DocTestParser().get_examples(body)
        globs = StudentNamespace(self)
        checker = doctest.OutputChecker()
        for example in examples:
            output = io.StringIO()
            try:
                code = compile(example.source, "<test>", "single")
                with redirect_stdout(output), redirect_stderr(output):
                    exec(code, globs)
            except Exception as error:  # NameError when the notebook lacks a name
                return False, self._failure(example, _last_line(error), hidden)
            if example.want and not checker.check_output(
                example.want, output.getvalue(), doctest.NORMALIZE_WHITESPACE
            ):
                got = output.getvalue().strip()[:500]
                return False, self._failure(
                    example,
                    f"expected {example.want.strip()[:500]!r}, got {got!r}",
                    hidden,
                )
        return True, ""

    @staticmethod
    def _failure(example: doctest.Example, reason: str, hidden: bool) -> str:
        if hidden:
            return reason
        return f"{example.source.strip()[:800]}\n  -> {reason}"


def check_model_archive(path: Path) -> None:
    """Refuse a `.keras` file whose config names code outside Keras (defence in depth)."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise StudentCodeError(
                    f"the model's config.json is larger than {MAX_CONFIG_BYTES >> 20} MiB"
                )
            if unpacked > MAX_UNPACKED_MODEL_BYTES:
                raise StudentCodeError(
                    f"the model unpacks to more than {MAX_UNPACKED_MODEL_BYTES >> 20} MiB"
                )
            config = json.loads(archive.read("config.json"))
    except RecursionError as error:
        raise StudentCodeError("the model's config is nested too deeply") from error
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise StudentCodeError(f"not a Keras model file ({error})") from error

    def walk(node):
        if isinstance(node, dict):
            module = node.get("module")
            if isinstance(module, str) and module.split(".")[0] not in (
                "keras",
                "builtins",
            ):
                raise StudentCodeError(
                    f"the model uses code from {module!r}, not Keras"
                )
            if node.get("class_name") in ("Lambda", "function", "__lambda__"):
                raise StudentCodeError(
                    "the model has a Lambda layer, which cannot be graded"
                )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
