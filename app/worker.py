"""`python -m app.worker`: a training worker of scaled mode (`app.transports.worker`)."""

from app.transports.worker import main

if __name__ == "__main__":
    main()
