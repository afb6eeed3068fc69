from hdrvid.cli import run

if __name__ == "__main__":
    run()
