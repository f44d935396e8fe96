"""The sandbox: runs one submission's code cells in IPython and answers the grader's requests.

Started by the grader as `python -m course_tools.grading.sandbox FD_IN FD_OUT LIMITS_JSON`, in a
scratch folder, under resource limits and (when the grader runs as root) under a user id of its
own. Nothing here is trusted: student code runs in this process and may change anything in it,
this module included. The grader only ever receives plain data from it (see `protocol`), and
computes every score in its own process.
"""

import json
import os
import resource
import sys
import traceback

from course_tools.grading import protocol

MODELS_DIR = ".grader-models"
#: Modules a submission imports in place of the real ones (see `sandbox_site/otter.py`).
SITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_site")
#: Longest tf.data.Dataset or generator materialised for the grader, in elements.
MAX_ITEMS = 10_000


def apply_limits(limits: dict) -> None:
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None or value is None:
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (
            ValueError,
            OSError,
        ):  # a limit above the current hard limit stays where it is
            pass


def describe_error(error: BaseException) -> str:
    lines = traceback.format_exception_only(type(error), error)
    return "".join(lines).strip()[-2000:]


class Sandbox:
    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.handles: dict[int, object] = {}
        self.models = 0
        from IPython.core.interactiveshell import InteractiveShell

        self.shell = InteractiveShell.instance(colors="nocolor")

    # --- values out -------------------------------------------------------------------------

    def encode_other(self, value):
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(value, keras.Model):
            return self.save_model(value)
        module = type(value).__module__ or ""
        if module.split(".")[0] in ("tensorflow", "keras", "jax", "torch") and hasattr(
            value, "__array__"
        ):
            import numpy as np

            array = np.asarray(value)
            if not array.dtype.hasobject:
                return protocol.encode(array)
        if hasattr(value, "as_numpy_iterator") or type(value).__name__ == "generator":
            return self.encode_items(value)
        if callable(value):
            handle = len(self.handles) + 1
            self.handles[handle] = value
            return {"$": "fn", "h": handle, "name": getattr(value, "__name__", "?")}
        return {"$": "opaque", "type": type(value).__qualname__}

    def encode_items(self, value):
        iterator = (
            value.as_numpy_iterator() if hasattr(value, "as_numpy_iterator") else value
        )
        items = []
        for item in iterator:
            if len(items) == MAX_ITEMS:
                return {"$": "opaque", "type": f"{type(value).__qualname__} (too long)"}
            items.append(protocol.encode(item, on_other=self.encode_other))
        return {"$": "list", "v": items}

    def save_model(self, model):
        os.makedirs(MODELS_DIR, exist_ok=True)
        self.models += 1
        path = os.path.join(MODELS_DIR, f"model-{self.models}.keras")
        try:
            model.save(path)
        except Exception as error:
            return {
                "$": "opaque",
                "type": f"Keras model that cannot be saved ({error})",
            }
        return {"$": "model", "file": path}

    def encode(self, value):
        return protocol.encode(value, on_other=self.encode_other)

    # --- values in --------------------------------------------------------------------------

    def decode_other(self, data):
        if data.get("$") == "fn" and data.get("h") in self.handles:
            return self.handles[data["h"]]
        raise protocol.ProtocolError(f"unknown value {data!r}")

    # --- requests ---------------------------------------------------------------------------

    def run(self, message):
        result = self.shell.run_cell(message["source"], store_history=True)
        sys.stdout.flush()
        sys.stderr.flush()
        error = result.error_before_exec or result.error_in_exec
        return {
            "ok": error is None,
            "error": None if error is None else describe_error(error),
            "error_type": None if error is None else type(error).__name__,
        }

    def get(self, message):
        namespace = self.shell.user_ns
        name = message["name"]
        if name not in namespace:
            return {"missing": True}
        return {"value": self.encode(namespace[name])}

    def call(self, message):
        function = self.handles[message["h"]]
        args = protocol.decode(message["args"], on_other=self.decode_other)
        kwargs = protocol.decode(message["kwargs"], on_other=self.decode_other)
        try:
            value = function(*args, **kwargs)
        except BaseException as error:  # the student's function failed: report it
            return {"raised": describe_error(error), "error_type": type(error).__name__}
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return {"value": self.encode(value)}

    def serve(self):
        handlers = {"run": self.run, "get": self.get, "call": self.call}
        while True:
            try:
                message = protocol.receive(self.fd_in)
            except EOFError:
                return
            except KeyboardInterrupt:  # an interrupt that arrived between two requests
                continue
            try:
                reply = handlers[message["op"]](message)
            except KeyboardInterrupt:
                reply = {
                    "ok": False,
                    "error": "KeyboardInterrupt",
                    "error_type": "KeyboardInterrupt",
                }
            except Exception as error:
                reply = {"failed": describe_error(error)}
            reply["id"] = message.get("id")
            try:
                protocol.send(self.fd_out, reply)
            except (TypeError, ValueError, protocol.ProtocolError) as error:
                protocol.send(
                    self.fd_out, {"id": message.get("id"), "failed": str(error)}
                )


def main(argv: list[str]) -> None:
    fd_in, fd_out = int(argv[1]), int(argv[2])
    apply_limits(json.loads(argv[3]))
    os.set_inheritable(fd_in, False)
    os.set_inheritable(fd_out, False)
    sys.path.insert(0, SITE)
    Sandbox(fd_in, fd_out).serve()


if __name__ == "__main__":
    main(sys.argv)
