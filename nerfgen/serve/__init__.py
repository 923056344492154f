"""`nerfgen serve`: a closed-loop sensor server over a scene file.

    nerfgen serve scenes/street.yaml --port 8000             # CLI (nerfgen.cli.serve)
    client = SensorClient("http://127.0.0.1:8000")           # nerfgen.client
    client.update_actors([...]); client.render_labels(pose, "front")

Modules: `scene` (the scene, its actors and their trajectories, renderers of moved
states), `moving` (displacing objects' meshes and fields), `cameras` (named cameras),
`requests` (request bodies), `frames` and `encoding` (what responses hold), `worker` (the
one render thread behind a bounded queue), `guard` (auth, body bounds), `app` (routes and
errors), `server` (binding, signals). The protocol is documented in docs/serve.md.
"""
