"""Render sharp HDR photographs (perspective, linear float EXR) of textured objects, ground and visible light
sources under a real panorama's light, with Cycles on the CPU: training and validation data with detail at
every scale for 2x super-resolution (issue 15's `--upscale 2`).

Why: the HDR panoramas are 1024x512 (2.8 pixels per degree), so a view of them holds no detail finer than that
grid, and a network trained to upscale them learns little. A rendered picture is sharp at any size: procedural
textures (noise, Voronoi cells, bricks, waves, checkers, at scales from below a pixel to a metre) for albedo
and bump, anti-aliased by Cycles' pixel filter.

Runs in a Python 3.11 environment with Blender's module (`python3.11 -m venv bpyenv && bpyenv/bin/pip install
bpy`; hdrvid itself never imports bpy):

    bpyenv/bin/python tools/render_detail.py OUT_DIR WORLD1.hdr,WORLD2.hdr,... FIRST COUNT \
        [--prefix rendered-detail-] [--width 512] [--height 384] [--samples 32]

For training, WORLDs are training scenes only and the prefix keeps `rendered-` (`hdrvid.train.data` then always
trains on them); a validation set is rendered under the validation scenes' light with another prefix and
another FIRST, into its own folder, and is never given to training. ~30-60 s per 512x384 picture at 32 samples
on one core."""
import argparse
import math
import random
from pathlib import Path

import bpy
from bpy_scene import light_source, new_scene, world_light

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("worlds"); ap.add_argument("first", type=int); ap.add_argument("count", type=int)
ap.add_argument("--prefix", default="rendered-detail-")
ap.add_argument("--width", type=int, default=512); ap.add_argument("--height", type=int, default=384)
ap.add_argument("--samples", type=int, default=32)
a = ap.parse_args()
worlds = a.worlds.split(",")
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)

TEXTURES = ["noise", "voronoi", "brick", "wave", "checker", "magic", "noise", "voronoi"]


def texture(nt, rng, scale):
    """A procedural texture node (its Fac/Color output) at ``scale`` features per metre, on object coordinates."""
    kind = rng.choice(TEXTURES)
    coord = nt.nodes.new("ShaderNodeTexCoord")
    mapping = nt.nodes.new("ShaderNodeMapping")
    mapping.inputs["Rotation"].default_value = (rng.uniform(0, 3), rng.uniform(0, 3), rng.uniform(0, 3))
    nt.links.new(coord.outputs["Object"], mapping.inputs["Vector"])
    if kind == "noise":
        t = nt.nodes.new("ShaderNodeTexNoise")
        t.inputs["Detail"].default_value = rng.uniform(2, 15)
        t.inputs["Roughness"].default_value = rng.uniform(0.4, 0.75)
    elif kind == "voronoi":
        t = nt.nodes.new("ShaderNodeTexVoronoi")
        t.feature = rng.choice(["F1", "F2", "DISTANCE_TO_EDGE"])
    elif kind == "brick":
        t = nt.nodes.new("ShaderNodeTexBrick")
        t.inputs["Mortar Size"].default_value = rng.uniform(0.005, 0.04)
        t.inputs["Color1"].default_value = (*[rng.uniform(0.05, 0.9)] * 3, 1)
        t.inputs["Color2"].default_value = (*[rng.uniform(0.05, 0.9)] * 3, 1)
    elif kind == "wave":
        t = nt.nodes.new("ShaderNodeTexWave")
        t.inputs["Distortion"].default_value = rng.uniform(0, 8)
        t.inputs["Detail"].default_value = rng.uniform(0, 6)
    elif kind == "checker":
        t = nt.nodes.new("ShaderNodeTexChecker")
    else:
        t = nt.nodes.new("ShaderNodeTexMagic")
        t.turbulence_depth = rng.randint(1, 4)
    nt.links.new(mapping.outputs["Vector"], t.inputs["Vector"])
    t.inputs["Scale"].default_value = scale
    fac = t.outputs["Fac"] if "Fac" in t.outputs else t.outputs["Distance"] if "Distance" in t.outputs else t.outputs[0]
    return fac


def material(name, rng, rough, metal=0.0):
    """Principled BSDF; its colour is a two-colour ramp over a procedural texture and its normal
    is bumped by another, each at a random scale (2-400 features per metre: a pixel of a 512-px view at 5 m
    spans about 1 cm)."""
    m = bpy.data.materials.new(name); m.use_nodes = True
    nt = m.node_tree
    b = nt.nodes["Principled BSDF"]
    b.inputs["Roughness"].default_value = rough
    b.inputs["Metallic"].default_value = metal
    ramp = nt.nodes.new("ShaderNodeValToRGB")
    for el in ramp.color_ramp.elements:
        el.color = (*[rng.uniform(0.02, 0.9) for _ in range(3)], 1)
    ramp.color_ramp.elements[0].position = rng.uniform(0.0, 0.45)
    ramp.color_ramp.elements[1].position = rng.uniform(0.55, 1.0)
    nt.links.new(texture(nt, rng, 10 ** rng.uniform(0.3, 2.6)), ramp.inputs["Fac"])
    nt.links.new(ramp.outputs["Color"], b.inputs["Base Color"])
    if rng.random() < 0.7:
        bump = nt.nodes.new("ShaderNodeBump")
        bump.inputs["Strength"].default_value = rng.uniform(0.1, 0.8)
        bump.inputs["Distance"].default_value = rng.uniform(0.002, 0.02)
        nt.links.new(texture(nt, rng, 10 ** rng.uniform(0.5, 2.6)), bump.inputs["Height"])
        nt.links.new(bump.outputs["Normal"], b.inputs["Normal"])
    return m


def render(i: int) -> None:
    rng = random.Random(1_000_003 * i + 17)
    sc = new_scene(a.width, a.height, a.samples)
    world = world_light(sc, rng, worlds)  # a real panorama's light, turned at random
    # the camera looks along +y, a little down, so that ground and objects fill most of the frame
    cam = bpy.data.cameras.new("c"); cam.lens = rng.uniform(22, 70)
    co = bpy.data.objects.new("c", cam); sc.collection.objects.link(co); sc.camera = co
    co.location = (0, 0, rng.uniform(0.8, 2.2))
    co.rotation_euler = (math.radians(90 - rng.uniform(5, 35)), 0, math.radians(rng.uniform(-8, 8)))
    bpy.ops.mesh.primitive_plane_add(size=200, location=(0, 0, 0))
    bpy.context.object.data.materials.append(material("ground", rng, rng.uniform(0.3, 0.95)))
    if rng.random() < 0.5:  # a back wall: no far, blurry panorama in the picture
        d = rng.uniform(6, 20)
        bpy.ops.mesh.primitive_plane_add(size=60, location=(rng.uniform(-3, 3), d, 0), rotation=(math.pi / 2, 0, 0))
        bpy.context.object.data.materials.append(material("wall", rng, rng.uniform(0.3, 0.95)))
    for k in range(rng.randint(12, 30)):
        kind = rng.choice(["cube", "sphere", "cyl", "cube", "torus", "cone"])
        y = rng.uniform(2.5, 16.0); x = rng.uniform(-0.7, 0.7) * y; s = rng.uniform(0.15, 1.2)
        loc = (x, y, s * rng.uniform(0.3, 1.5))
        rot = (rng.uniform(0, 0.6), rng.uniform(0, 0.6), rng.uniform(0, 3.1))
        if kind == "cube":
            bpy.ops.mesh.primitive_cube_add(size=s, location=loc, rotation=rot)
        elif kind == "sphere":
            bpy.ops.mesh.primitive_uv_sphere_add(radius=s / 2, location=loc, segments=64, ring_count=32)
            bpy.ops.object.shade_smooth()
        elif kind == "torus":
            bpy.ops.mesh.primitive_torus_add(major_radius=s / 2, minor_radius=s / rng.uniform(6, 14), location=loc,
                                             rotation=rot, major_segments=64, minor_segments=24)
            bpy.ops.object.shade_smooth()
        elif kind == "cone":
            bpy.ops.mesh.primitive_cone_add(radius1=s / 2, depth=s * 1.5, location=loc, rotation=rot, vertices=64)
        else:
            bpy.ops.mesh.primitive_cylinder_add(radius=s / 3, depth=s * 2, location=loc, rotation=rot, vertices=64)
        metal = 1.0 if rng.random() < 0.2 else 0.0
        rough = rng.choice([rng.uniform(0.05, 0.2), rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9)])
        bpy.context.object.data.materials.append(material(f"m{k}", rng, rough, metal))
    for k in range(rng.randint(0, 3)):  # light sources in view: 20 to 5000 times a lit wall
        y = rng.uniform(2.0, 12.0); loc = (rng.uniform(-0.6, 0.6) * y, y, rng.uniform(0.3, 3.0))
        light_source(rng, loc, f"e{k}")
    sc.render.filepath = str(out / f"{a.prefix}{i:04d}.exr")
    bpy.ops.render.render(write_still=True)
    print("wrote", sc.render.filepath, "world", Path(world).stem, flush=True)


for i in range(a.first, a.first + a.count):
    render(i)
