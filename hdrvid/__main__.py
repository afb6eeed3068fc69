from hdrvid.cli import main

if __name__ == "__main__":
    main()
