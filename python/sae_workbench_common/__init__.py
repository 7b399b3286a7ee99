"""Pieces shared by the SAE Workbench Python packages (capture and the PyTorch trainer).

Only torch and numpy are required; `safetensors` is used when it is installed.
"""
