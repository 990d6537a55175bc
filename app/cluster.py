"""`python -m app.cluster`: scaled mode on this machine (`app.transports.cluster`)."""

from app.transports.cluster import main

if __name__ == "__main__":
    main()
