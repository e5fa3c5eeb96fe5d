"""Images are decoded within a memory budget: the pixel count is checked from the header, a JPEG
decodes scaled down, nothing makes a full-size copy. Each upload is stored in a fresh process
that has only a given amount of address space to spare: more, and it fails with MemoryError."""

import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from blueberry.services import upload
from blueberry.services.errors import FieldError
from tests.servers import ROOT

STORE_WITHIN = """
import resource, sys, tempfile
from pathlib import Path
from blueberry.services import upload
data = Path(sys.argv[1]).read_bytes()
mapped = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (mapped + int(sys.argv[2]) * 2**20, resource.RLIM_INFINITY))
try:
    stored = upload.store(data, "picture", Path(tempfile.mkdtemp()))
    print(f"{stored.width}x{stored.height}")
except MemoryError:
    print("MemoryError")
except Exception as error:
    print(error)
"""


def stored_within(path: Path, spare_mib: int) -> str:
    """What storing `path` gives in a process with `spare_mib` MiB of address space left."""
    command = [sys.executable, "-c", STORE_WITHIN, str(path), str(spare_mib)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def image_file(tmp_path, mode, size, fmt) -> Path:
    path = tmp_path / f"picture.{fmt.lower()}"
    Image.new(mode, size, (10, 20, 30, 255)[: len(mode)]).save(path, fmt)
    return path


def test_a_huge_png_is_refused_before_it_is_decoded(tmp_path):
    path = image_file(tmp_path, "RGBA", (8000, 5000), "PNG")  # 160 MB decoded, a small file
    assert path.stat().st_size < 300 * 1024
    assert stored_within(path, spare_mib=16) == "That image is too large in pixels."


def test_the_largest_png_taken_costs_its_pixels_and_no_copy(tmp_path):
    path = image_file(tmp_path, "RGBA", (4096, 4096), "PNG")  # 64 MiB decoded
    assert stored_within(path, spare_mib=96) == "4096x4096"  # a second full-size copy would need 128+


def test_a_large_jpeg_decodes_scaled_down(tmp_path):
    path = image_file(tmp_path, "RGB", (9000, 6000), "JPEG")  # 54 megapixels
    assert stored_within(path, spare_mib=96) == "4500x3000"  # decoded at half size: 1/4 of the memory


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_jpeg_too_large_even_scaled_down_is_refused():
    buffer = BytesIO()
    Image.new("L", (12000, 9000)).save(buffer, "JPEG")  # 108 megapixels
    with pytest.raises(FieldError, match="too large in pixels"):
        upload.store(buffer.getvalue(), "huge.jpg", Path("/nonexistent"))


def test_a_thumbnail_keeps_the_shape_and_the_transparency(tmp_path):
    picture = Image.new("RGBA", (3000, 1000), (255, 0, 0, 0))
    path = tmp_path / "wide.png"
    picture.save(path, "PNG")
    stored = upload.store(path.read_bytes(), "wide.png", tmp_path)
    thumb = Image.open(tmp_path / stored.thumb_name)
    assert thumb.size == (320, 107) and thumb.mode == "RGBA" and thumb.getpixel((5, 5))[3] == 0
