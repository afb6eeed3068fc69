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

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("worlds"); ap.add_argument("first", type=int); ap.add_argument("count", type=int)
ap.add_argument("--size", type=int, default=1024); ap.add_argument("--samples", type=int, default=32)
a = ap.parse_args()
worlds = a.worlds.split(",")
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)


def material(name, color, rough, metal=0.0, emit=0.0, emit_color=(1, 1, 1)):
    m = bpy.data.materials.new(name); m.use_nodes = True
    b = m.node_tree.nodes["Principled BSDF"]
    b.inputs["Base Color"].default_value = (*color, 1)
    b.inputs["Roughness"].default_value = rough
    b.inputs["Metallic"].default_value = metal
    if emit:
        b.inputs["Emission Color"].default_value = (*emit_color, 1)
        b.inputs["Emission Strength"].default_value = emit
    return m


def render(i: int) -> None:
    rng = random.Random(i)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"; sc.cycles.device = "CPU"; sc.cycles.samples = a.samples
    sc.cycles.use_denoising = True; sc.cycles.max_bounces = 4
    sc.render.resolution_x, sc.render.resolution_y = a.size, a.size // 2
    sc.render.resolution_percentage = 100
    sc.render.image_settings.file_format = "OPEN_EXR"; sc.render.image_settings.color_depth = "32"
    sc.render.image_settings.color_mode = "RGB"
    sc.view_settings.view_transform = "Standard"
    sc.render.threads_mode = "FIXED"; sc.render.threads = 1
    # world: a real panorama's light, turned at random
    w = bpy.data.worlds.new("w"); sc.world = w; w.use_nodes = True
    nt = w.node_tree; env = nt.nodes.new("ShaderNodeTexEnvironment")
    world = rng.choice(worlds)
    env.image = bpy.data.images.load(world)
    mapping = nt.nodes.new("ShaderNodeMapping"); coord = nt.nodes.new("ShaderNodeTexCoord")
    mapping.inputs["Rotation"].default_value[2] = rng.uniform(0, 2 * math.pi)
    nt.links.new(coord.outputs["Generated"], mapping.inputs["Vector"])
    nt.links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    nt.links.new(env.outputs["Color"], nt.nodes["Background"].inputs["Color"])
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
        warm = rng.choice([(1.0, 0.75, 0.5), (1.0, 0.9, 0.8), (1.0, 1.0, 1.0), (0.8, 0.9, 1.0)])
        strength = 10 ** rng.uniform(1.3, 3.7)
        if rng.random() < 0.6:
            bpy.ops.mesh.primitive_uv_sphere_add(radius=rng.uniform(0.03, 0.15), location=loc)
        else:
            bpy.ops.mesh.primitive_plane_add(size=rng.uniform(0.2, 1.0), location=loc,
                                             rotation=(rng.uniform(0, 3), rng.uniform(0, 3), 0))
        bpy.context.object.data.materials.append(material(f"e{k}", (0, 0, 0), 0.5, emit=strength, emit_color=warm))
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
