"""What the Blender render scripts (`render_scenes.py`, `render_detail.py`) share: an empty Cycles scene on the CPU
that writes linear float EXR, and a real panorama's light turned at random. Imported from the scripts' own folder,
inside the Python environment that has `bpy` (hdrvid itself never imports bpy)."""
import math
import random

import bpy


def new_scene(width: int, height: int, samples: int):
    """An empty scene: Cycles on one CPU thread, ``samples`` per pixel + OpenImageDenoise, 32-bit float RGB EXR,
    no view transform (the file holds scene-linear light)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"; sc.cycles.device = "CPU"; sc.cycles.samples = samples
    sc.cycles.use_denoising = True; sc.cycles.max_bounces = 4
    sc.render.resolution_x, sc.render.resolution_y = width, height
    sc.render.resolution_percentage = 100
    sc.render.image_settings.file_format = "OPEN_EXR"; sc.render.image_settings.color_depth = "32"
    sc.render.image_settings.color_mode = "RGB"
    sc.view_settings.view_transform = "Standard"
    sc.render.threads_mode = "FIXED"; sc.render.threads = 1
    return sc


def world_light(sc, rng: random.Random, worlds: list[str]) -> str:
    """The scene's world: one of ``worlds`` (equirectangular HDR files), turned about the vertical at random.
    Returns the file chosen. (Draws from ``rng`` in a fixed order: the file, then the turn.)"""
    w = bpy.data.worlds.new("w"); sc.world = w; w.use_nodes = True
    nt = w.node_tree; env = nt.nodes.new("ShaderNodeTexEnvironment")
    world = rng.choice(worlds)
    env.image = bpy.data.images.load(world)
    mapping = nt.nodes.new("ShaderNodeMapping"); coord = nt.nodes.new("ShaderNodeTexCoord")
    mapping.inputs["Rotation"].default_value[2] = rng.uniform(0, 2 * math.pi)
    nt.links.new(coord.outputs["Generated"], mapping.inputs["Vector"])
    nt.links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    nt.links.new(env.outputs["Color"], nt.nodes["Background"].inputs["Color"])
    return world


def light_source(rng: random.Random, loc: tuple[float, float, float], name: str) -> None:
    """A bulb (a small sphere, 60 %) or a panel the camera sees at ``loc``, emitting warm to cool white at 20 to
    5000 times a lit wall's radiance. (Draws from ``rng``: the colour, the strength, the shape, its size.)"""
    warm = rng.choice([(1.0, 0.75, 0.5), (1.0, 0.9, 0.8), (1.0, 1.0, 1.0), (0.8, 0.9, 1.0)])
    strength = 10 ** rng.uniform(1.3, 3.7)
    if rng.random() < 0.6:
        bpy.ops.mesh.primitive_uv_sphere_add(radius=rng.uniform(0.03, 0.15), location=loc)
    else:
        bpy.ops.mesh.primitive_plane_add(size=rng.uniform(0.2, 1.0), location=loc,
                                         rotation=(rng.uniform(0, 3), rng.uniform(0, 3), 0))
    m = bpy.data.materials.new(name); m.use_nodes = True
    b = m.node_tree.nodes["Principled BSDF"]
    b.inputs["Base Color"].default_value = (0, 0, 0, 1)
    b.inputs["Roughness"].default_value = 0.5
    b.inputs["Emission Color"].default_value = (*warm, 1)
    b.inputs["Emission Strength"].default_value = strength
    bpy.context.object.data.materials.append(m)
