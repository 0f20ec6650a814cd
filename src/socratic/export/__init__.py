"""Step 8 of the method, ship: the tutor as files (`socratic export`).

    hf_folder.py  ExportConfig and run(): a merged Hugging Face folder with a model card
    gguf.py       llama.cpp's HF->GGUF converter and quantizer (`python -m socratic.export.gguf fetch`)
    modelfile.py  an Ollama Modelfile for a GGUF file
"""
