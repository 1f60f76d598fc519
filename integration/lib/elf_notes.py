"""ELF facts read with binutils, an independent reader of the files pypeek reads."""
import subprocess


def build_id(path):
    """The GNU build-id note of an ELF file (hex), as `readelf -n` prints it."""
    p = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    raise AssertionError("no build-id in %s" % path)
