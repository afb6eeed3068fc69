"""Render HDR panoramas (equirectangular, linear float EXR) of random objects and visible light sources under a
real training panorama's light, with Cycles on the CPU: training data with light sources for hdrvid (issue 12).

Runs in a Python 3.11 environment with Blender's module (`python3.11 -m venv bpyenv && bpyenv/bin/pip install
bpy`; hdrvid itself never imports bpy):

    bpyenv/bin/python tools/render_scenes.py OUT_DIR WORLD1.hdr,WORLD2.hdr,... FIRST COUNT [--size 768] [--samples 24]

WORLDs must be training scenes only (never validation or held-out ones). Files are named rendered-NNNN.exr;
`hdrvid.train.data.validation_split` always puts them in training, so the validation set stays the real scenes.
Each scene: the world panorama turned at random, a ground plane, 8-20 diffuse, glossy and metal primitives
(the sun's and lamps' specular highlights), 0-4 emitting bulbs or panels at 20-5000x a lit wall's radiance, an
equirectangular camera at eye height; Cycles with OpenImageDenoise. ~40 s per 768x384 scene at 24 samples on
one core."""
import argparse
import math
import random
from pathlib import Path

import bpy
from bpy_scene import light_source, new_scene, world_light

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("worlds"); ap.add_argument("first", type=int); ap.add_argument("count", type=int)
ap.add_argument("--size", type=int, default=1024); ap.add_argument("--samples", type=int, default=32)
a = ap.parse_args()
worlds = a.worlds.split(",")
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)


def material(name, color, rough, metal=0.0):
    m = bpy.data.materials.new(name); m.use_nodes = True
    b = m.node_tree.nodes["Principled BSDF"]
    b.inputs["Base Color"].default_value = (*color, 1)
    b.inputs["Roughness"].default_value = rough
    b.inputs["Metallic"].default_value = metal
    return m


def render(i: int) -> None:
    rng = random.Random(i)
    sc = new_scene(a.size, a.size // 2, a.samples)
    world = world_light(sc, rng, worlds)  # a real panorama's light, turned at random
    # ground
    bpy.ops.mesh.primitive_plane_add(size=200, location=(0, 0, 0))
    g = rng.uniform(0.05, 0.5); tint = [g * rng.uniform(0.8, 1.2) for _ in range(3)]
    bpy.context.object.data.materials.append(material("ground", tint, rng.uniform(0.3, 0.95)))
    # objects: diffuse, glossy and metal, some of them catching the sun
    for k in range(rng.randint(8, 20)):
        kind = rng.choice(["cube", "sphere", "cyl", "sphere"])
        r = rng.uniform(1.0, 7.0); th = rng.uniform(0, 2 * math.pi); s = rng.uniform(0.2, 1.5)
        loc = (r * math.cos(th), r * math.sin(th), s * rng.uniform(0.5, 2.5))
        if kind == "cube":
            bpy.ops.mesh.primitive_cube_add(size=s, location=loc, rotation=(0, 0, rng.uniform(0, 3)))
        elif kind == "sphere":
            bpy.ops.mesh.primitive_uv_sphere_add(radius=s / 2, location=loc, segments=48, ring_count=24)
            bpy.ops.object.shade_smooth()
        else:
            bpy.ops.mesh.primitive_cylinder_add(radius=s / 3, depth=s * 2, location=loc)
        col = [rng.uniform(0.03, 0.9) for _ in range(3)]
        metal = 1.0 if rng.random() < 0.3 else 0.0
        rough = rng.choice([rng.uniform(0.02, 0.12), rng.uniform(0.2, 0.8)])
        bpy.context.object.data.materials.append(material(f"m{k}", col, rough, metal))
    # light sources the camera sees: bulbs and panels, 20 to 5000 times a lit wall
    for k in range(rng.randint(0, 4)):
        r = rng.uniform(1.2, 7.0); th = rng.uniform(0, 2 * math.pi)
        loc = (r * math.cos(th), r * math.sin(th), rng.uniform(0.5, 3.5))
        light_source(rng, loc, f"e{k}")
    # an equirectangular camera at eye height
    cam = bpy.data.cameras.new("c"); cam.type = "PANO"
    try:
        cam.panorama_type = "EQUIRECTANGULAR"
    except AttributeError:
        cam.cycles.panorama_type = "EQUIRECTANGULAR"
    co = bpy.data.objects.new("c", cam); sc.collection.objects.link(co); sc.camera = co
    co.location = (0, 0, rng.uniform(1.2, 1.8)); co.rotation_euler = (math.pi / 2, 0, 0)
    sc.render.filepath = str(out / f"rendered-{i:04d}.exr")
    bpy.ops.render.render(write_still=True)
    print("wrote", sc.render.filepath, "world", Path(world).stem, flush=True)


for i in range(a.first, a.first + a.count):
    render(i)
